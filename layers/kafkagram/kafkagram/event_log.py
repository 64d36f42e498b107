"""The event log: every event the outbox published stays there for EVENT_LOG_RETENTION.

The outbox table is the log (no second copy): a row's `published_at` says when the relay handed it
to Kafka. From it,
- `requeue(...)` puts chosen events back in line: the relay publishes them again, in id order, and
  idempotent consumers make a second delivery harmless (`kafkagram replay`);
- `requeue_unconsumed` does it for everything after the checkpoint: a local broker keeps records in
  memory only, so when `make up` starts a fresh one, events published before a crash but not yet
  handled would otherwise be lost;
- `prune` keeps the log and the consumers' processed-event markers to the retention window. Markers
  are kept at least as long as the log: an event replayed from the log still finds its marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pg8000.native

from kafkagram.idempotency import forget_processed
from kafkagram.outbox import delete_published, require_transaction

EVENT_LOG_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class Pruned:
    events: int
    processed_markers: int


def newest_published(connection: pg8000.native.Connection) -> int | None:
    """The id of the newest row the relay has published (None when none has been)."""
    rows = connection.run("SELECT max(id) FROM outbox WHERE published_at IS NOT NULL")
    return None if rows[0][0] is None else int(rows[0][0])


def consumed_through(connection: pg8000.native.Connection) -> int | None:
    rows = connection.run("SELECT consumed_through FROM event_log_checkpoint")
    return int(rows[0][0]) if rows else None


def record_consumed_through(connection: pg8000.native.Connection, outbox_id: int) -> None:
    """Every consumer has finished every event up to `outbox_id` (the checkpoint only moves forward)."""
    connection.run("INSERT INTO event_log_checkpoint (consumed_through) VALUES (:id) "
                   "ON CONFLICT (singleton) DO UPDATE SET consumed_through = GREATEST("
                   "event_log_checkpoint.consumed_through, EXCLUDED.consumed_through), recorded_at = now()",
                   id=outbox_id)


def requeue_unconsumed(connection: pg8000.native.Connection) -> int:
    """Put every published event after the checkpoint back in line for the relay; returns how many."""
    require_transaction(connection, "requeue_unconsumed")
    connection.run("UPDATE outbox SET published_at = NULL WHERE published_at IS NOT NULL AND id > "
                   "COALESCE((SELECT consumed_through FROM event_log_checkpoint), 0)")
    return int(connection.row_count)


def requeue(connection: pg8000.native.Connection, topic: str, *, since: datetime | None = None,
            event_type: str | None = None) -> int:
    """Put the published events of `topic` (created at or after `since`, of `event_type`) back in line
    for the relay; returns how many."""
    require_transaction(connection, "requeue")
    connection.run("UPDATE outbox SET published_at = NULL WHERE published_at IS NOT NULL AND topic = :topic "
                   "AND (CAST(:since AS timestamptz) IS NULL OR created_at >= CAST(:since AS timestamptz)) "
                   "AND (CAST(:type AS text) IS NULL OR payload->>'type' = CAST(:type AS text))",
                   topic=topic, since=since, type=event_type)
    return int(connection.row_count)


def prune(connection: pg8000.native.Connection, retention: timedelta = EVENT_LOG_RETENTION) -> Pruned:
    """Drop events published, and processed-event markers written, longer ago than `retention`."""
    return Pruned(delete_published(connection, retention), forget_processed(connection, retention))
