"""A Kafka record without a key, or without a value (a tombstone), has no such field in AWS's event;
other producers of events (and older runtimes) send null. The layer reads both alike, and the events the
local runtime builds pass Powertools' own parser models (AWS's shape)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
from aws_lambda_powertools.utilities.parser.models import KafkaMskEventModel, KafkaSelfManagedEventModel
from confluent_kafka import TIMESTAMP_CREATE_TIME, Message

from emulator.kafka.records import KafkaRecord, batch_columns, event_from_batch, invocation_event
from kafkagram.batches import decode_record
from kafkagram.events import CATALOG, UnexpectedEvent, new_event

ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/c/00000000-0000-0000-0000-000000000000-1"
EVENT = new_event("post-created", CATALOG["post-created"].example, 1001)


def record(key: bytes | None, value: bytes | None) -> KafkaRecord:
    return KafkaRecord("post-events", 0, 7, 1_700_000_000_000, False, key, value, None)


def test_absent_key_and_value_are_left_out_of_the_event():
    rendered = record(None, None).to_event_record()
    assert "key" not in rendered and "value" not in rendered
    assert set(record(b"k", b"v").to_event_record()) == {"topic", "partition", "offset", "timestamp",
                                                         "timestampType", "key", "value", "headers"}


def test_the_sandbox_builds_the_same_shape_from_columns():
    messages = [Message(topic="post-events", partition=0, offset=i, key=key, value=value,
                        timestamp=(TIMESTAMP_CREATE_TIME, 1_700_000_000_000))
                for i, (key, value) in enumerate([(None, b"{}"), (b"k", None), (None, None), (b"k", b"v")])]
    header = {"event_source": "aws:kafka", "event_source_arn": ARN, "bootstrap_servers": "b-1:9092"}
    records = event_from_batch((header, batch_columns(messages)))["records"]["post-events-0"]
    assert [sorted({"key", "value"} & set(r)) for r in records] == [["value"], ["key"], [], ["key", "value"]]


@pytest.mark.parametrize("event_source", ["aws:kafka", "SelfManagedKafka"])
def test_powertools_parses_the_runtimes_events(event_source):
    arn = ARN if event_source == "aws:kafka" else None
    event = invocation_event([record(None, EVENT.to_json().encode()), record(b"1001", b"plain")],
                             event_source=event_source, event_source_arn=arn, bootstrap_servers="b-1:9092,b-2:9092")
    model = KafkaMskEventModel if event_source == "aws:kafka" else KafkaSelfManagedEventModel
    parsed = model.model_validate(event)
    keyless, keyed = parsed.records["post-events-0"]
    assert keyless.key is None and keyed.key == b"1001"
    assert parsed.bootstrapServers == ["b-1:9092", "b-2:9092"]


@pytest.mark.parametrize("source", ["aws:SelfManagedKafka", "aws:kafka"])
def test_the_self_managed_model_refuses_other_event_sources(source):
    """Powertools tells the two apart by eventSource alone: the old `aws:SelfManagedKafka` is refused."""
    event = invocation_event([record(b"k", b"v")], event_source=source, event_source_arn=None,
                             bootstrap_servers="b-1:9092")
    with pytest.raises(ValueError, match="eventSource"):
        KafkaSelfManagedEventModel.model_validate(event)


@pytest.mark.parametrize("fields", [{}, {"key": None}], ids=["key absent", "key null"])
def test_a_record_without_a_key_is_read(fields: dict[str, Any]):
    rendered = record(b"x", EVENT.to_json().encode()).to_event_record()
    del rendered["key"]
    assert decode_record(KafkaEventRecord({**rendered, **fields})).id == EVENT.id


@pytest.mark.parametrize("fields", [{}, {"value": None}], ids=["value absent", "value null"])
def test_a_record_without_a_value_is_not_an_event(fields: dict[str, Any]):
    rendered = record(b"x", None).to_event_record()
    with pytest.raises(UnexpectedEvent, match="has no value"):
        decode_record(KafkaEventRecord({**rendered, **fields}))
