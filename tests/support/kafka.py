"""Kafka for tests: reading events back from the broker, and for the event source mapping tests a
template per test, producing, and reading the probe app's records."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import yaml
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition

from emulator.kafka.broker import ensure_topics
from emulator.runtime import Runtime, RuntimeOptions
from kafkagram.config import TOPICS
from tests.support.repo import APPS
from tests.support.services import free_port

PROBE_CODE = APPS / "kafka_app" / "src"
CONSUME_TIMEOUT_S = 30.0
CLUSTER_ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/local/00000000-0000-0000-0000-000000000000-1"


def kafka_event(topic: str, **properties: Any) -> dict[str, Any]:
    return {"Type": "MSK", "Properties": {"Stream": CLUSTER_ARN, "Topics": [topic],
                                         "StartingPosition": "TRIM_HORIZON", **properties}}


def write_template(directory: Path, functions: dict[str, dict[str, Any]], prefix: str,
                   timeout: float = 10) -> Path:
    """A SAM template whose functions run the probe handler (or `Handler` given per function)."""
    resources = {}
    for logical_id, spec in functions.items():
        resources[logical_id] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": str(PROBE_CODE),
                "Handler": spec.get("Handler", "probe.handler"),
                "Timeout": spec.get("Timeout", timeout),
                "Environment": {"Variables": {"PROBE_PREFIX": prefix, **spec.get("Variables", {})}},
                "Events": spec["Events"],
            },
        }
    document = {"AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
                "Globals": {"Function": {"Runtime": "python3.11", "MemorySize": 256}},
                "Resources": resources}
    path = directory / "template.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def produce(bootstrap: str, topic: str, values: list[Any], *, partition: int | None = None,
            key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for value in values:
        payload = value if isinstance(value, bytes) else json.dumps(value).encode()
        kwargs: dict[str, Any] = {"value": payload, "key": key, "headers": headers}
        if partition is not None:
            kwargs["partition"] = partition
        producer.produce(topic, **kwargs)
    assert producer.flush(30) == 0


@contextmanager
def running(template: Path, bootstrap: str, session_timeout_ms: int, **options: Any) -> Iterator[Runtime]:
    runtime = Runtime(RuntimeOptions(template_path=template, kafka_bootstrap_servers=bootstrap,
                                     session_timeout_ms=session_timeout_ms, status_port=free_port(),
                                     **options))
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


class Probe:
    """What the probe handler recorded under one prefix."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def invocations(self) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.client.lrange(f"{self.prefix}:invocations", 0, -1)]

    def done(self) -> list[str]:
        return [item.decode() for item in self.client.lrange(f"{self.prefix}:done", 0, -1)]

    def deliveries(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in self.client.hgetall(f"{self.prefix}:deliveries").items()}

    def delivered_values(self) -> list[Any]:
        import base64

        values = []
        for invocation in self.invocations():
            for batch in invocation["event"]["records"].values():
                values.extend(json.loads(base64.b64decode(r["value"])) for r in batch)
        return values


def create_topic(bootstrap: str, topic: str, partitions: int = 1) -> None:
    ensure_topics(bootstrap, {topic: partitions})


# --- reading events back -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Received:
    topic: str
    partition: int
    offset: int
    key: str
    event: dict


def consume(bootstrap: str, event_ids: set[str], topics: tuple[str, ...] = TOPICS) -> list[Received]:
    """Read the topics from the beginning until every event in `event_ids` has arrived."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"outbox-test-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(timeout=10)
        consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)
                         for topic in topics for partition in metadata.topics[topic].partitions])
        received: list[Received] = []
        deadline = time.monotonic() + CONSUME_TIMEOUT_S
        while len(received) < len(event_ids) and time.monotonic() < deadline:
            record = as_received(consumer.poll(0.2))
            if record is not None and record.event["id"] in event_ids:
                received.append(record)
        return received
    finally:
        consumer.close()


def as_received(message: Message | None) -> Received | None:
    if message is None or message.error():
        return None
    return Received(str(message.topic()), int(message.partition() or 0), int(message.offset() or 0),
                    bytes(message.key() or b"").decode(), json.loads(message.value() or b"{}"))
