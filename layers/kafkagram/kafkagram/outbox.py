"""Transactional outbox: events are rows committed with the state change they describe; a relay
publishes them to Kafka and marks them published.

Why: Kafka and PostgreSQL cannot commit together (and Tansu has no usable transactions), so writing
the event to the database in the same transaction is what makes "the state changed" and "the event
will be published" one fact. If the broker is down, rows simply wait.

Guarantees:
- at least once: a row is marked published only after Kafka acknowledged it (acks=all); a crash in
  between publishes it again, which consumers absorb with `kafkagram.idempotency`;
- per key, in id order: one relay publishes at a time (an advisory lock), rows go out in id order,
  and the idempotent producer keeps that order through retries. Ids are taken at INSERT, so two
  transactions that write events for one key should be serialized by a lock on that aggregate's row
  taken before `enqueue` (a later id then also commits later).
"""

from __future__ import annotations

import json
import logging
import select
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pg8000.native

from kafkagram.db import Database, close_quietly, connect
from kafkagram.events import Event, key_for, topic_for, validate

if TYPE_CHECKING:
    from confluent_kafka import KafkaError, Message, Producer

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "outbox"  # the migration's trigger notifies it when a transaction with events commits
RELAY_LOCK_KEY = 0x6B61666F  # "kafo": pg advisory lock held by the one relay publishing
DEFAULT_BATCH_SIZE = 500
ENQUEUE_CHUNK = 1000  # events per INSERT: 3 parameters each stays far below PostgreSQL's 65,535
DEFAULT_POLL_INTERVAL_S = 1.0  # fallback when a notification is missed (e.g. the listener reconnects)
DEFAULT_DELIVERY_TIMEOUT_S = 10.0
FLUSH_MARGIN_S = 5.0  # beyond the delivery timeout, so every message gets its delivery report
STOP_CHECK_INTERVAL_S = 0.1
RETRY_BACKOFF_S = 0.5
MAX_RETRY_BACKOFF_S = 5.0
_IDLE = b"I"  # PostgreSQL's ReadyForQuery status outside a transaction block

Row = tuple[int, str, str | None, str]  # id, topic, key (None: no key), payload as JSON text


class OutboxError(RuntimeError):
    pass


class OutboxPublishError(OutboxError):
    """Some rows could not be delivered to Kafka; they stay unpublished and are retried."""


def require_transaction(connection: pg8000.native.Connection, what: str) -> None:
    # pg8000 keeps the server's transaction status (from ReadyForQuery) but has no public accessor.
    if getattr(connection, "_transaction_status", None) == _IDLE:
        raise OutboxError(f"{what} must run inside the caller's transaction (BEGIN first), "
                          "so it commits or rolls back with the state change")


def enqueue(connection: pg8000.native.Connection, event: Event, *, check: bool = True) -> int:
    """Add an event to the outbox in the caller's open transaction; returns the row id."""
    return enqueue_many(connection, [event], check=check)[0]


def enqueue_many(connection: pg8000.native.Connection, events: Sequence[Event], *,
                 check: bool = True) -> list[int]:
    """Add events (one INSERT per ENQUEUE_CHUNK) in the caller's open transaction; ids follow the order given."""
    require_transaction(connection, "enqueue")
    if check:  # a malformed event would poison every consumer: refuse it while the caller can roll back
        for event in events:
            validate(event)
    ids: list[int] = []
    for start in range(0, len(events), ENQUEUE_CHUNK):
        ids.extend(_insert(connection, events[start:start + ENQUEUE_CHUNK]))
    return ids


def enqueue_alike(connection: pg8000.native.Connection, events: Sequence[Event]) -> list[int]:
    """`enqueue_many` for events built by one expression (a fan-out's timeline-updated): checking the
    first against its schema catches a bug as surely as checking a thousand, without a thousand
    jsonschema runs on a hot path."""
    if events:
        validate(events[0])
    return enqueue_many(connection, events, check=False)


def _insert(connection: pg8000.native.Connection, events: Sequence[Event]) -> list[int]:
    values, params = [], {}
    for i, event in enumerate(events):
        values.append(f"(:topic{i}, :key{i}, CAST(:payload{i} AS jsonb))")
        params.update({f"topic{i}": topic_for(event.type), f"key{i}": key_for(event),
                       f"payload{i}": event.to_json()})
    if not values:
        return []
    rows = connection.run("INSERT INTO outbox (topic, key, payload) VALUES " + ", ".join(values)
                          + " RETURNING id", **params)
    return [int(row[0]) for row in rows]


def enqueue_record(connection: pg8000.native.Connection, topic: str, key: str | None,
                   payload: Mapping[str, Any]) -> int:
    """Add a record that is not an event (a failure record for `<topic>-failed`, see `kafkagram.poison`)
    in the caller's open transaction; `key` None publishes it without a key. Returns the row id."""
    require_transaction(connection, "enqueue_record")
    rows = connection.run("INSERT INTO outbox (topic, key, payload) VALUES (:topic, :key, CAST(:payload AS jsonb)) "
                          "RETURNING id", topic=topic, key=key, payload=json.dumps(payload))
    return int(rows[0][0])


def delete_published(connection: pg8000.native.Connection, older_than: timedelta) -> int:
    """Drop rows published longer ago than `older_than` (the outbox is not an archive)."""
    connection.run("DELETE FROM outbox WHERE published_at < now() - CAST(:age AS interval)",
                   age=f"{older_than.total_seconds()} seconds")
    return int(connection.row_count)


KAFKA_AUTH_METHODS = ("none", "iam")


def producer_config(bootstrap_servers: str, delivery_timeout_s: float = DEFAULT_DELIVERY_TIMEOUT_S,
                    auth: str = "none") -> dict[str, Any]:
    """librdkafka settings of the relay's producer. `auth="iam"`: Amazon MSK's IAM authentication
    (TLS, SASL/OAUTHBEARER with a token signed by the function's role; MSK's port 9098)."""
    if auth not in KAFKA_AUTH_METHODS:
        raise ValueError(f"KAFKA_AUTH must be one of {', '.join(KAFKA_AUTH_METHODS)}, got {auth!r}")
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "acks": "all",
        # Retries keep the per-partition order and add no duplicates.
        "enable.idempotence": True,
        # Java's partitioner (librdkafka's default differs): every client maps a key to one partition.
        "partitioner": "murmur2_random",
        "message.timeout.ms": int(delivery_timeout_s * 1000),
        "logger": logger,
    }
    if auth == "iam":
        config.update({"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER",
                       "oauth_cb": msk_iam_token})
    return config


def msk_iam_token(_oauthbearer_config: str) -> tuple[str, float]:
    """librdkafka's token callback: an MSK IAM token signed with the process's AWS credentials for
    AWS_REGION, and when it expires (seconds since the epoch). librdkafka asks again before then."""
    import os

    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(os.environ["AWS_REGION"])
    return token, expiry_ms / 1000


class OutboxRelay:
    """Publishes unpublished outbox rows to Kafka. One per process; not shared between threads."""

    def __init__(self, database_url: str, bootstrap_servers: str, *, batch_size: int = DEFAULT_BATCH_SIZE,
                 poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
                 delivery_timeout_s: float = DEFAULT_DELIVERY_TIMEOUT_S, kafka_auth: str = "none",
                 on_published: Callable[[set[str]], object] | None = None) -> None:
        """`on_published(topics)`: called as soon as Kafka acknowledged rows for these topics (a local
        runtime wakes its consumers with it); an error it raises is logged, never the relay's."""
        self.on_published = on_published
        self.database_url = database_url
        self.bootstrap_servers = bootstrap_servers
        self.kafka_auth = kafka_auth
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.delivery_timeout_s = delivery_timeout_s
        self._database = Database(database_url)
        self._listener: pg8000.native.Connection | None = None  # a session of its own, kept in LISTEN
        self._producer: Producer | None = None

    def relay_once(self, limit: int | None = None) -> int:
        """Publish up to `limit` rows in id order; returns how many were published.

        Raises OutboxPublishError when Kafka did not take some rows (they stay unpublished; the ones
        it took are marked). Returns 0 while another relay holds the lock.
        """
        try:
            with self._database.transaction() as connection:  # ROLLBACK releases the lock
                rows = self._claim(connection, limit or self.batch_size)
                delivered, failures = self._produce(rows)
                if delivered and self.on_published is not None:
                    self._announce({row[1] for row in rows if row[0] in set(delivered)})
                if delivered:
                    connection.run("UPDATE outbox SET published_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))",
                                   ids=delivered)
        except Exception:
            self._drop_producer()  # nothing of this batch may stay queued to go out later
            raise
        if failures:
            raise OutboxPublishError(f"{len(failures)} of {len(rows)} outbox rows were not delivered to Kafka "
                                     f"at {self.bootstrap_servers} ({failures[0]}); they stay unpublished")
        return len(delivered)

    def run(self, stop_event: threading.Event) -> None:
        """Relay until `stop_event` is set: at once when events commit (LISTEN), else every poll interval."""
        failures = 0
        while not stop_event.is_set():
            try:
                listener = self._listening()
                published = self.relay_once()
                failures = 0
                if published < self.batch_size:  # a full batch means more may be waiting
                    self._wait_for_events(listener, stop_event)
            except Exception as exc:
                failures += 1
                logger.warning("outbox relay: %s (retrying)", exc)
                self._drop_listener()
                stop_event.wait(min(RETRY_BACKOFF_S * 2 ** (failures - 1), MAX_RETRY_BACKOFF_S))

    def _announce(self, topics: set[str]) -> None:
        try:
            self.on_published(topics)  # type: ignore[misc]
        except Exception:
            logger.exception("outbox relay: on_published failed")

    def unpublished(self) -> int:
        """Rows waiting for a relay."""
        return self._database.read(unpublished_count)

    def close(self) -> None:
        self._database.close()
        self._drop_listener()
        self._drop_producer()

    def __enter__(self) -> OutboxRelay:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- database -----------------------------------------------------------------------------------

    def _claim(self, connection: pg8000.native.Connection, limit: int) -> list[Row]:
        # One relay at a time: two relays publishing disjoint batches could reorder one key's events.
        if not connection.run("SELECT pg_try_advisory_xact_lock(:key)", key=RELAY_LOCK_KEY)[0][0]:
            return []
        rows = connection.run("SELECT id, topic, key, payload::text FROM outbox WHERE published_at IS NULL "
                              "ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED", limit=limit)
        return [(int(row[0]), row[1], row[2], row[3]) for row in rows]

    def _listening(self) -> pg8000.native.Connection:
        if self._listener is None:
            listener = connect(self.database_url)
            listener.run(f"LISTEN {NOTIFY_CHANNEL}")
            self._listener = listener
        return self._listener

    def _drop_listener(self) -> None:
        close_quietly(self._listener)
        self._listener = None

    def _wait_for_events(self, listener: pg8000.native.Connection, stop_event: threading.Event) -> None:
        """Return on a notification, after the poll interval, or soon after `stop_event` is set."""
        # pg8000 only reads notifications while running a query: wait on its socket, then run one.
        sock = listener._usock
        deadline = time.monotonic() + self.poll_interval_s
        while not stop_event.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            readable, _, _ = select.select([sock], [], [], min(remaining, STOP_CHECK_INTERVAL_S))
            if readable:
                listener.run("SELECT 1")
                listener.notifications.clear()
                return

    # --- Kafka --------------------------------------------------------------------------------------

    def _produce(self, rows: list[Row]) -> tuple[list[int], list[str]]:
        """Send rows and wait for every delivery report; returns the delivered ids and the failures."""
        if not rows:
            return [], []
        producer = self._kafka()
        reports: dict[int, KafkaError | None] = {}
        for row_id, topic, key, payload in rows:
            producer.produce(topic, value=payload.encode(), key=None if key is None else key.encode(),
                             on_delivery=_reporter(reports, row_id))
        if producer.flush(self.delivery_timeout_s + FLUSH_MARGIN_S) > 0:
            producer.purge()  # nothing may stay queued: it would go out later, behind newer rows
            producer.flush(0)
        delivered = [row[0] for row in rows if row[0] in reports and reports[row[0]] is None]
        failures = [str(reports.get(row[0], "no delivery report")) for row in rows if row[0] not in delivered]
        if failures:
            self._drop_producer()  # start the next attempt with a fresh producer and empty queues
        return delivered, failures

    def _kafka(self) -> Producer:
        if self._producer is None:
            from confluent_kafka import Producer  # imported here: API functions only enqueue

            self._producer = Producer(producer_config(self.bootstrap_servers, self.delivery_timeout_s,
                                                    self.kafka_auth))
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            self._producer.purge()
            self._producer.flush(0)
            self._producer = None


def _reporter(reports: dict[int, KafkaError | None], row_id: int) -> Any:
    def on_delivery(error: KafkaError | None, _message: Message) -> None:
        reports[row_id] = error
    return on_delivery


def unpublished_count(connection: pg8000.native.Connection) -> int:
    """Rows waiting for the relay (for status lines and tests)."""
    return int(connection.run("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0])
