"""Poison records under the local runtime: a real handler (notify) behind an event source mapping gets
an undecodable record, one of an unknown type and one its consumer cannot read between good ones. The
function diverts each to `<topic>-failed` itself (through the outbox and its relay) with its reason,
handles the good ones, and nothing is retried."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from handlers import notify
from kafkagram.db import connect
from kafkagram.events import new_event
from kafkagram.events.envelope import Event
from kafkagram.outbox import OutboxRelay
from tests.support.invocations import invoke, kafka_record
from tests.support.kafka import CLUSTER_ARN, create_topic, produce, running
from tests.support.repo import REPO
from tests.support.services import REDIS_TEST_URL, create_test_database
from tests.support.store import make_user
from tests.support.waiting import wait_for

HANDLERS_DIR = REPO / "handlers"


@pytest.fixture
def poison_db() -> Iterator[tuple[str, Any]]:
    """A database of this test's own: its outbox relay publishes only what this test's function wrote."""
    url = create_test_database("kafkagram_poison")
    connection = connect(url)
    yield url, connection
    connection.close()


def followed(follower_id: int, followee_id: int) -> Event:
    return new_event("user-followed", {"follower_id": str(follower_id), "followee_id": str(followee_id)}, follower_id)


def test_poison_records_go_to_the_failure_topic_with_their_reason_and_are_not_retried(
        poison_db: tuple[str, Any], tmp_path: Path, kafka_bootstrap: str, kafka_session_timeout_ms: int,
        unique: str) -> None:
    database_url, db = poison_db
    topic = f"user-events-{unique}"
    create_topic(kafka_bootstrap, topic)
    create_topic(kafka_bootstrap, f"{topic}-failed")
    create_topic(kafka_bootstrap, "notification-events")  # where notify's own events go
    star = make_user(db)
    fans = [make_user(db) for _ in range(4)]
    unknown = Event(type="user-teleported", version=1, actor_id=str(fans[0].id), data={"user_id": str(fans[0].id)})
    unreadable = Event(**{**followed(fans[0].id, star.id).model_dump(), "data": {"follower_id": str(fans[0].id)}})
    values: list[Any] = [
        followed(fans[0].id, star.id).to_dict(),
        b"\x00\x01 not an event",
        followed(fans[1].id, star.id).to_dict(),
        unknown.to_dict(),
        followed(fans[2].id, star.id).to_dict(),
        unreadable.to_dict(),
        followed(fans[3].id, star.id).to_dict(),
    ]
    template = tmp_path / "template.yaml"
    template.write_text(yaml.safe_dump({
        "AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {"Function": {"Runtime": "python3.11", "MemorySize": 512}},
        "Resources": {"Notify": {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": str(HANDLERS_DIR), "Handler": "notify.handler", "Timeout": 30,
            "Environment": {"Variables": {"DATABASE_URL": database_url, "REDIS_URL": REDIS_TEST_URL}},
            "Events": {"Follows": {"Type": "MSK", "Properties": {
                "Stream": CLUSTER_ARN, "Topics": [topic], "StartingPosition": "TRIM_HORIZON",
                "ConsumerGroupId": f"{unique}-notify", "BatchSize": 10, "MaximumBatchingWindowInSeconds": 0,
                # No filter, so every record reaches the function; were one retried, it would land on the
                # failure topic a second time, from the runtime (RetriesExhausted).
                "MaximumRetryAttempts": 2, "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ProvisionedPollerConfig": {"MinimumPollers": 1, "MaximumPollers": 1},
                "DestinationConfig": {"OnFailure": {"Destination": f"kafka://{topic}-failed"}}}}}}}}}))

    produce(kafka_bootstrap, topic, values, partition=0, key=str(star.id).encode())
    with running(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
        figures = wait_for(lambda: next((f for f in runtime.status().values() if f["records"] >= len(values)), None),
                           timeout=60, message="all seven records handled")
    assert (figures["errors"], figures["to_failure_destination"], figures["records"]) == (0, 0, len(values))

    [[actors]] = db.run("SELECT actor_count FROM notifications WHERE recipient_id = :id AND kind = 'follow'",
                        id=star.id)
    assert actors == 4  # every good record handled, once

    with OutboxRelay(database_url, kafka_bootstrap) as relay:
        wait_for(lambda: relay.relay_once() == 0 and relay.unpublished() == 0, message="the outbox relayed")
    failures = read_topic(kafka_bootstrap, f"{topic}-failed", 3)
    by_offset = {int(f["KafkaBatchInfo"]["recordInfo"]["offset"]): f for f in failures}
    assert sorted(by_offset) == [1, 3, 5]
    assert [by_offset[offset]["reason"]["code"] for offset in (1, 3, 5)] == [
        "not-an-event", "unknown-event-type", "invalid-event"]
    assert "user-teleported" in by_offset[3]["reason"]["message"]
    assert "followee_id" in by_offset[5]["reason"]["message"]
    for offset, failure in by_offset.items():
        assert failure["requestContext"]["condition"] == "PoisonRecord"
        assert failure["requestContext"]["functionArn"].endswith(":$LATEST")
        [record] = failure["payload"]["records"][f"{topic}-0"]
        value = values[offset]
        assert base64.b64decode(record["value"]) == (value if isinstance(value, bytes) else json.dumps(value).encode())
        assert base64.b64decode(record["key"]) == str(star.id).encode()


def test_a_poison_record_in_a_direct_invocation_is_diverted_once_and_the_batch_succeeds(
        database_url: str, db: Any, clients: Any) -> None:
    """Redelivered (a retry from an earlier offset), a diverted record is not diverted twice."""
    star, fan = make_user(db), make_user(db)
    poison_record = kafka_record(b"{not json", topic="user-events")
    good = kafka_record(followed(fan.id, star.id))
    assert invoke(notify.handler, poison_record, good) == {"batchItemFailures": []}
    assert invoke(notify.handler, poison_record, good) == {"batchItemFailures": []}
    rows = db.run("SELECT key, payload FROM outbox WHERE topic = 'user-events-failed' "
                  "AND payload->'KafkaBatchInfo'->'recordInfo'->>'offset' = :offset",
                  offset=str(poison_record.offset))
    assert len(rows) == 1 and rows[0][0] == "poison" and rows[0][1]["reason"]["code"] == "not-an-event"
    assert db.run("SELECT actor_count FROM notifications WHERE recipient_id = :id", id=star.id) == [[1]]


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and not message.error():
                found.append(json.loads(message.value() or b"{}"))
        return found
    finally:
        consumer.close()
