"""The scheduled outbox relay (handlers/outbox_relay.py, AWS's home for what `make up` runs as a
thread): one invocation publishes what waits, keeps publishing what commits while it runs, and
returns before its timeout. Real PostgreSQL (a database of its own) and the session's Kafka broker."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.context import LambdaContext
from emulator.kafka.broker import ensure_topics
from handlers import outbox_relay
from kafkagram.config import TOPICS, get_settings
from kafkagram.db import connect, transaction
from kafkagram.events import Event, new_event
from kafkagram.outbox import enqueue
from tests.support.kafka import consume
from tests.support.services import create_test_database
from tests.support.waiting import wait_for

DRAIN_S = 4.0  # of the invocation under test (the real one drains 50 s)


@pytest.fixture(scope="module")
def relay_database_url() -> str:
    return create_test_database("kafkagram_relay_test")


@pytest.fixture
def relay_env(relay_database_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    ensure_topics(kafka_bootstrap, {topic: 3 for topic in TOPICS})
    monkeypatch.setenv("DATABASE_URL", relay_database_url)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    get_settings.cache_clear()
    connection = connect(relay_database_url)
    yield connection
    connection.close()
    get_settings.cache_clear()


def context(remaining_s: float) -> LambdaContext:
    return LambdaContext(
        function_name="kafkagram-test-outbox-relay", function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:kafkagram-test-outbox-relay",
        memory_limit_in_mb="256", aws_request_id=str(uuid.uuid4()), log_group_name="/aws/lambda/relay",
        log_stream_name="test", deadline_ms=int((time.time() + remaining_s) * 1000))


def commit(connection: Any) -> Event:
    event = new_event("user-registered", {"user_id": "42", "username": f"u{uuid.uuid4().hex[:8]}",
                                          "display_name": "Relay"}, 42)
    with transaction(connection):
        enqueue(connection, event)
    return event


def published(connection: Any, event: Event) -> bool:
    return bool(connection.run("SELECT 1 FROM outbox WHERE payload->>'id' = :id AND published_at IS NOT NULL",
                               id=event.id))


def test_one_invocation_publishes_waiting_and_new_events_then_returns(relay_env, kafka_bootstrap):
    db = relay_env
    waiting = commit(db)
    result: dict[str, Any] = {}
    invocation = threading.Thread(target=lambda: result.update(outbox_relay.handler(
        {"source": "aws.events", "detail-type": "Scheduled Event"},
        context(DRAIN_S + outbox_relay.LAST_BATCH_S))))
    started = time.monotonic()
    invocation.start()

    wait_for(lambda: published(db, waiting), timeout=15, message="the waiting event published")
    later = commit(db)  # committed while the invocation runs: published by it, not by the next one
    wait_for(lambda: published(db, later), timeout=15, message="the new event published")
    assert invocation.is_alive()

    invocation.join(timeout=DRAIN_S + outbox_relay.LAST_BATCH_S + 10)
    assert not invocation.is_alive()
    assert time.monotonic() - started < DRAIN_S + outbox_relay.LAST_BATCH_S
    assert result["unpublished"] == 0
    assert result["drained_s"] >= DRAIN_S - 0.5
    received = consume(kafka_bootstrap, {waiting.id, later.id}, topics=("user-events",))
    assert sorted(r.event["id"] for r in received) == sorted([waiting.id, later.id])


def test_the_drain_fits_the_time_left():
    assert outbox_relay.drain_seconds(context(75)) == pytest.approx(outbox_relay.DRAIN_S, abs=0.1)
    assert outbox_relay.drain_seconds(context(30)) == pytest.approx(30 - outbox_relay.LAST_BATCH_S, abs=0.1)
    assert outbox_relay.drain_seconds(context(5)) == 0.0


def test_without_a_broker_the_invocation_fails(relay_env, monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS")
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="KAFKA_BOOTSTRAP_SERVERS"):
        outbox_relay.handler({}, context(60))
