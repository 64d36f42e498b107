"""Idempotent handlers: remember, in the handler's own transaction, which events a consumer applied.

Kafka delivers at least once (retries, rebalances, the outbox relay after a crash), so a handler must
give a redelivered event no second effect. The marker row and the effect commit or roll back together:
a failed attempt leaves no marker and the retry applies the event; a successful one leaves the marker
and every redelivery is skipped. Two deliveries racing on one event are serialized by the primary key:
the second INSERT waits for the first transaction and then finds the row.

    connection.run("BEGIN")
    if first_time(connection, "likes-counter", event.id):
        connection.run("UPDATE posts SET like_count = like_count + 1 WHERE id = :id", id=post_id)
    connection.run("COMMIT")

Effects outside PostgreSQL (Redis, WebSocket pushes) need their own idempotence (ZADD of the same
member, a stable notification id).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pg8000.native

from kafkagram.outbox import require_transaction


def first_time(connection: pg8000.native.Connection, consumer: str, event_id: str) -> bool:
    """True the first time `consumer` processes `event_id` (call inside the handler's transaction)."""
    require_transaction(connection, "first_time")
    rows = connection.run("INSERT INTO processed_events (consumer, event_id) VALUES (:consumer, :event_id) "
                          "ON CONFLICT DO NOTHING RETURNING 1", consumer=consumer, event_id=event_id)
    return bool(rows)


def first_times(connection: pg8000.native.Connection, consumer: str, event_ids: Iterable[str]) -> set[str]:
    """The ids among `event_ids` that `consumer` has not processed yet, now marked (one statement per batch)."""
    require_transaction(connection, "first_times")
    unique_ids = list(dict.fromkeys(event_ids))
    if not unique_ids:
        return set()
    rows = connection.run("INSERT INTO processed_events (consumer, event_id) "
                          "SELECT :consumer, unnest(CAST(:event_ids AS text[])) "
                          "ON CONFLICT DO NOTHING RETURNING event_id", consumer=consumer, event_ids=unique_ids)
    return {row[0] for row in rows}


def forget_processed(connection: pg8000.native.Connection, older_than: timedelta) -> int:
    """Drop markers older than any redelivery can be (longer than the topics' retention)."""
    connection.run("DELETE FROM processed_events WHERE processed_at < now() - CAST(:age AS interval)",
                   age=f"{older_than.total_seconds()} seconds")
    return int(connection.row_count)
