"""The event log (kafkagram.event_log): the outbox keeps published events for the retention window;
requeueing puts chosen ones back in line for the relay; pruning keeps the window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from kafkagram.db import transaction
from kafkagram.event_log import (
    consumed_through,
    newest_published,
    prune,
    record_consumed_through,
    requeue,
    requeue_unconsumed,
)


@pytest.fixture
def log(db):
    db.run("TRUNCATE outbox, event_log_checkpoint, processed_events")
    yield db
    db.run("TRUNCATE outbox, event_log_checkpoint, processed_events")


def published(db, topic: str, event_type: str, *, created_ago: timedelta = timedelta(0),
              published_ago: timedelta | None = timedelta(0)) -> int:
    rows = db.run("INSERT INTO outbox (topic, key, payload, created_at, published_at) VALUES (:topic, 'k', "
                  "CAST(:payload AS jsonb), now() - CAST(:created AS interval), "
                  "now() - CAST(:published AS interval)) RETURNING id",
                  topic=topic, payload=json.dumps({"type": event_type}), created=f"{created_ago.total_seconds()} s",
                  published=None if published_ago is None else f"{published_ago.total_seconds()} s")
    return int(rows[0][0])


def unpublished_ids(db) -> list[int]:
    return [row[0] for row in db.run("SELECT id FROM outbox WHERE published_at IS NULL ORDER BY id")]


def test_a_restart_requeues_what_was_published_after_the_checkpoint(log):
    first = published(log, "post-events", "post-created")
    second = published(log, "post-events", "post-created")
    third = published(log, "user-events", "user-followed")
    waiting = published(log, "user-events", "user-followed", published_ago=None)
    assert newest_published(log) == third
    with transaction(log):
        record_consumed_through(log, second)
        record_consumed_through(log, first)  # the checkpoint never goes back
    assert consumed_through(log) == second
    with transaction(log):
        assert requeue_unconsumed(log) == 1
    assert unpublished_ids(log) == [third, waiting]


def test_without_a_checkpoint_everything_in_the_log_is_requeued(log):
    ids = [published(log, "post-events", "post-created") for _ in range(3)]
    with transaction(log):
        assert requeue_unconsumed(log) == 3
    assert unpublished_ids(log) == ids


def test_replay_picks_by_topic_time_and_type(log):
    old = published(log, "post-events", "post-created", created_ago=timedelta(hours=3))
    recent = published(log, "post-events", "post-created", created_ago=timedelta(minutes=5))
    deleted = published(log, "post-events", "post-deleted", created_ago=timedelta(minutes=5))
    published(log, "user-events", "post-created")
    with transaction(log):
        assert requeue(log, "post-events", since=datetime.now(UTC) - timedelta(hours=1),
                       event_type="post-created") == 1
    assert unpublished_ids(log) == [recent]
    with transaction(log):
        assert requeue(log, "post-events") == 2  # what is already in line is not counted twice
    assert unpublished_ids(log) == [old, recent, deleted]


def test_prune_keeps_the_retention_window_of_events_and_markers(log):
    kept = published(log, "post-events", "post-created", published_ago=timedelta(days=6))
    published(log, "post-events", "post-created", published_ago=timedelta(days=8))
    waiting = published(log, "post-events", "post-created", created_ago=timedelta(days=9), published_ago=None)
    log.run("INSERT INTO processed_events (consumer, event_id, processed_at) VALUES "
            "('fan-out', 'old', now() - interval '8 days'), ('fan-out', 'new', now() - interval '1 day')")
    with transaction(log):
        pruned = prune(log, timedelta(days=7))
    assert (pruned.events, pruned.processed_markers) == (1, 1)
    assert [row[0] for row in log.run("SELECT id FROM outbox ORDER BY id")] == [kept, waiting]
    assert log.run("SELECT event_id FROM processed_events") == [["new"]]
