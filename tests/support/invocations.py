"""Handlers called as the event source mapping calls them: one partition's records in AWS's Kafka
invocation shape, built by the local runtime's own event builder, with a real LambdaContext."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from typing import Any

from emulator.context import LambdaContext
from emulator.kafka.records import KafkaRecord, invocation_event
from kafkagram.events import Event, key_for, topic_for

EVENT_SOURCE_ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/kafkagram-local/00000000-0000-0000-0000-000000000000-1"
OK: dict[str, Any] = {"batchItemFailures": []}  # a batch without failed records
_offsets = itertools.count(1)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_context(function_name: str) -> LambdaContext:
    return LambdaContext(
        function_name=function_name, function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}",
        memory_limit_in_mb="1769", aws_request_id=str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{function_name}", log_stream_name="test",
        deadline_ms=int(time.time() * 1000) + 60_000)


def kafka_record(event: Event | dict[str, Any] | bytes, partition: int = 0, topic: str | None = None) -> KafkaRecord:
    """One record of the event's topic as the relay publishes it (key: the aggregate id). Bytes make a
    record that is not an event, on `topic` (default media-events)."""
    if isinstance(event, bytes):
        topic, key, value = topic or "media-events", b"poison", event
    else:
        parsed = event if isinstance(event, Event) else Event.model_validate(event)
        topic, key, value = topic_for(parsed.type), key_for(parsed).encode(), parsed.to_json().encode()
    return KafkaRecord(topic, partition, next(_offsets), int(time.time() * 1000), False, key, value,
                       [("source", b"tests")])


def invoke(handler: Handler, *records: KafkaRecord) -> dict[str, Any]:
    """Call the handler as the event source mapping does: one partition's records, AWS's event shape."""
    event = invocation_event(list(records), event_source="aws:kafka", event_source_arn=EVENT_SOURCE_ARN,
                             bootstrap_servers="b-1.kafkagram.local:9098,b-2.kafkagram.local:9098")
    return handler(event, lambda_context(handler.__module__))
