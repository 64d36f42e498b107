"""The transactional outbox, its relay to Kafka (also across a broker outage), and idempotent handlers."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from emulator.kafka.broker import LocalBroker, ensure_topics
from kafkagram.config import TOPICS
from kafkagram.db import connect, transaction
from kafkagram.events import Event, EventValidationError, new_event
from kafkagram.idempotency import first_time, first_times, forget_processed
from kafkagram.ids import DATABASE_SHARD_ID, shard_of
from kafkagram.outbox import (
    RELAY_LOCK_KEY,
    OutboxError,
    OutboxPublishError,
    OutboxRelay,
    delete_published,
    enqueue,
    enqueue_many,
    unpublished_count,
)
from tests.support.kafka import Received, consume
from tests.support.services import free_port
from tests.support.store import rolled_back
from tests.support.waiting import wait_for

PARTITIONS = 3
DOWN_DELIVERY_TIMEOUT_S = 2.0


@pytest.fixture
def outbox_db(db):
    db.run("TRUNCATE outbox, processed_events")
    db.run("CREATE TEMP TABLE post_likes (post_id bigint PRIMARY KEY, likes integer NOT NULL)")
    return db


@pytest.fixture
def topics(kafka_bootstrap):
    ensure_topics(kafka_bootstrap, {topic: PARTITIONS for topic in TOPICS})
    return kafka_bootstrap


def like(post_id: int, user_id: int, removed: bool = False) -> Event:
    return new_event("like-removed" if removed else "like-given",
                     {"post_id": str(post_id), "post_author_id": "1", "user_id": str(user_id)}, user_id)


def likes_on_three_posts(per_post: int = 4) -> list[Event]:
    """Likes and unlikes interleaved across three posts (three keys)."""
    return [like(post_id, 100 + i, removed=i % 2 == 1) for i in range(per_post) for post_id in (7001, 7002, 7003)]


def commit_events(connection, events: list[Event]) -> list[int]:
    with transaction(connection):
        ids = enqueue_many(connection, events)
    return ids


def assert_delivered_in_order(received: list[Received], events: list[Event], outbox_ids: list[int]) -> None:
    """Each event arrived once, on its topic, keyed by its post, and each key's events in id order."""
    assert sorted(r.event["id"] for r in received) == sorted(e.id for e in events)
    expected_by_key: dict[str, list[str]] = {}
    for _, event in sorted(zip(outbox_ids, events, strict=True), key=lambda pair: pair[0]):
        expected_by_key.setdefault(event.data["post_id"], []).append(event.id)
    for key, expected in expected_by_key.items():
        of_key = sorted((r for r in received if r.key == key), key=lambda r: (r.partition, r.offset))
        assert len({(r.topic, r.partition) for r in of_key}) == 1, f"key {key} spread over partitions"
        assert [r.event["id"] for r in of_key] == expected, f"key {key} out of order"


# --- enqueue --------------------------------------------------------------------------------------------

def test_an_event_commits_or_rolls_back_with_its_state_change(outbox_db):
    db = outbox_db
    event = like(7001, 101)
    with rolled_back(db):
        db.run("INSERT INTO post_likes VALUES (7001, 1)")
        enqueue(db, event)
    assert db.run("SELECT count(*) FROM outbox")[0][0] == 0

    with transaction(db):
        db.run("INSERT INTO post_likes VALUES (7001, 1)")
        row_id = enqueue(db, event)
    [(topic, key, payload, published_at)] = db.run("SELECT topic, key, payload, published_at FROM outbox")
    assert (topic, key, published_at) == ("interaction-events", "7001", None)
    assert payload == event.to_dict()
    assert shard_of(row_id) == DATABASE_SHARD_ID


def test_enqueue_outside_a_transaction_is_refused(outbox_db):
    with pytest.raises(OutboxError, match="inside the caller's transaction"):
        enqueue(outbox_db, like(7001, 101))
    assert unpublished_count(outbox_db) == 0


def test_an_invalid_event_is_refused_before_it_is_stored(outbox_db):
    db = outbox_db
    bad = new_event("like-given", {"post_id": "7001", "user_id": "101"}, 101)  # no post_author_id
    with rolled_back(db), pytest.raises(EventValidationError, match="'post_author_id' is a required property"):
        enqueue(db, bad)
    assert unpublished_count(db) == 0


def test_enqueue_many_stores_events_in_the_order_given(outbox_db):
    events = likes_on_three_posts()
    ids = commit_events(outbox_db, events)
    assert ids == sorted(ids) and len(set(ids)) == len(events)
    stored = outbox_db.run("SELECT payload->>'id' FROM outbox ORDER BY id")
    assert [row[0] for row in stored] == [event.id for event in events]


# --- relay ----------------------------------------------------------------------------------------------

def test_relay_publishes_each_key_in_id_order_and_marks_rows(outbox_db, database_url, topics):
    events = likes_on_three_posts()
    ids = commit_events(outbox_db, events)
    with OutboxRelay(database_url, topics) as relay:
        assert relay.relay_once(limit=5) == 5  # in batches: the lowest ids first
        assert outbox_db.run("SELECT id FROM outbox WHERE published_at IS NOT NULL ORDER BY id") == \
            [[row_id] for row_id in ids[:5]]
        assert relay.relay_once() == len(events) - 5
        assert relay.relay_once() == 0
    assert unpublished_count(outbox_db) == 0
    assert_delivered_in_order(consume(topics, {e.id for e in events}, ("interaction-events",)), events, ids)


def test_one_relay_publishes_at_a_time(outbox_db, database_url, topics):
    commit_events(outbox_db, [like(7001, 101)])
    with OutboxRelay(database_url, topics) as relay:
        holder = connect(database_url)  # as another relay does during its batch
        with transaction(holder):
            holder.run("SELECT pg_advisory_xact_lock(:key)", key=RELAY_LOCK_KEY)
            assert relay.relay_once() == 0
            assert unpublished_count(outbox_db) == 1
        holder.close()
        assert relay.relay_once() == 1


@pytest.mark.slow
def test_rows_wait_while_the_broker_is_down_and_go_out_when_it_returns(outbox_db, database_url):
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    events = likes_on_three_posts()
    ids = commit_events(outbox_db, events)
    relay = OutboxRelay(database_url, bootstrap, delivery_timeout_s=DOWN_DELIVERY_TIMEOUT_S)
    broker = LocalBroker(port=port)
    try:
        not_delivered = f"12 of 12 outbox rows were not delivered to Kafka at {bootstrap} "
        with pytest.raises(OutboxPublishError, match=not_delivered):
            relay.relay_once()
        assert unpublished_count(outbox_db) == len(events)

        broker.start()
        ensure_topics(bootstrap, {topic: PARTITIONS for topic in TOPICS})
        # As the relay's run loop does: try again until Kafka takes everything (the first attempt
        # normally does; a fresh idempotent producer needs about a second to get its producer id).
        wait_for(lambda: relay_once_quietly(relay) and unpublished_count(outbox_db) == 0, timeout=60,
                 message="the rows to be published after the broker returned")
        assert_delivered_in_order(consume(bootstrap, {e.id for e in events}, ("interaction-events",)), events, ids)
    finally:
        relay.close()  # first: the broker waits for connected clients before it exits
        broker.stop()


def relay_once_quietly(relay: OutboxRelay) -> bool:
    try:
        relay.relay_once()
    except OutboxPublishError:
        return False
    return True


def test_run_wakes_up_on_commit_and_stops_when_told(outbox_db, database_url, topics):
    stop = threading.Event()
    # A poll interval far longer than the test: only the LISTEN/NOTIFY wake-up can publish in time.
    relay = OutboxRelay(database_url, topics, poll_interval_s=600)
    worker = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    try:
        commit_events(outbox_db, [like(7001, 101)])
        worker.start()
        wait_for(lambda: unpublished_count(outbox_db) == 0, timeout=20, message="the first pass")
        started = time.monotonic()
        second = like(7001, 102)
        commit_events(outbox_db, [second])
        wait_for(lambda: unpublished_count(outbox_db) == 0, timeout=20, message="a wake-up on NOTIFY")
        assert time.monotonic() - started < 10
        assert len(consume(topics, {second.id}, ("interaction-events",))) == 1
    finally:
        stop.set()
        worker.join(timeout=10)
        relay.close()
    assert not worker.is_alive()


def test_delete_published_keeps_what_is_waiting(outbox_db, database_url, topics):
    commit_events(outbox_db, [like(7001, 101), like(7002, 102)])
    with OutboxRelay(database_url, topics) as relay:
        relay.relay_once(limit=1)
    assert delete_published(outbox_db, timedelta(hours=1)) == 0
    assert delete_published(outbox_db, timedelta(0)) == 1
    assert unpublished_count(outbox_db) == 1
    assert outbox_db.run("SELECT count(*) FROM outbox")[0][0] == 1


# --- idempotent handlers -----------------------------------------------------------------------------

def handle_like(connection, event: dict) -> None:
    """A handler that counts likes, as the interactions handler will."""
    with transaction(connection):
        if first_time(connection, "like-counter", event["id"]):
            connection.run("INSERT INTO post_likes VALUES (:post, 1) "
                           "ON CONFLICT (post_id) DO UPDATE SET likes = post_likes.likes + 1",
                           post=int(event["data"]["post_id"]))


def test_a_redelivered_event_has_no_second_effect(outbox_db):
    event = like(7001, 101).to_dict()
    other = like(7001, 102).to_dict()
    for delivery in (event, event, other, event):
        handle_like(outbox_db, delivery)
    assert outbox_db.run("SELECT likes FROM post_likes WHERE post_id = 7001") == [[2]]


def test_a_failed_attempt_leaves_no_marker(outbox_db):
    db = outbox_db
    event_id = like(7001, 101).id
    with rolled_back(db):  # the handler failed after marking: the retry must apply the event
        assert first_time(db, "like-counter", event_id)
    with transaction(db):
        assert first_time(db, "like-counter", event_id)
        assert not first_time(db, "like-counter", event_id)


def test_each_consumer_processes_an_event_once(outbox_db):
    db = outbox_db
    event_id = like(7001, 101).id
    with transaction(db):
        assert first_time(db, "like-counter", event_id)
        assert first_time(db, "notifier", event_id)
        assert not first_time(db, "notifier", event_id)


def test_first_times_marks_a_batch_in_one_statement(outbox_db):
    db = outbox_db
    a, b, c = (like(7001, user).id for user in (101, 102, 103))
    with transaction(db):
        assert first_times(db, "fan-out", [a, b, a]) == {a, b}
        assert first_times(db, "fan-out", [b, c]) == {c}
        assert first_times(db, "fan-out", []) == set()


def test_first_time_outside_a_transaction_is_refused(outbox_db):
    with pytest.raises(OutboxError, match="inside the caller's transaction"):
        first_time(outbox_db, "like-counter", like(7001, 101).id)


def test_forget_processed_drops_old_markers_only(outbox_db):
    db = outbox_db
    with transaction(db):
        first_times(db, "like-counter", ["old", "new"])
        db.run("UPDATE processed_events SET processed_at = now() - interval '8 days' WHERE event_id = 'old'")
    assert forget_processed(db, timedelta(days=7)) == 1
    assert db.run("SELECT event_id FROM processed_events") == [["new"]]


def test_msk_iam_auth_signs_a_connect_token_with_the_functions_credentials(monkeypatch):
    import base64
    import time
    from urllib.parse import parse_qs, urlparse

    from kafkagram.outbox import msk_iam_token, producer_config

    for name, value in {"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                        "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    config = producer_config("b-1.example:9098", auth="iam")
    assert (config["security.protocol"], config["sasl.mechanism"]) == ("SASL_SSL", "OAUTHBEARER")

    token, expires_at = config["oauth_cb"]("")
    assert config["oauth_cb"] is msk_iam_token and time.time() < expires_at < time.time() + 3600
    signed = urlparse(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(signed.query)
    assert signed.hostname == "kafka.eu-west-1.amazonaws.com" and query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/") and query["X-Amz-Signature"]

    assert "security.protocol" not in producer_config("127.0.0.1:9092")
    with pytest.raises(ValueError, match="KAFKA_AUTH"):
        producer_config("127.0.0.1:9092", auth="scram")
