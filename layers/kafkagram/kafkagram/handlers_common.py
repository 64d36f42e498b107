"""Plumbing shared by the Kafka-triggered handlers: envelope decoding, the sandbox's database
connection and its transactions, and the one batch runner with Lambda's partial batch response.

A handler module is then: a data model of the fields it reads, one function per event type, and

    def handler(event, context):
        return handle_batch(event, context, {"media-uploaded": on_media_uploaded}, logger)

Failures are per partition and in order: when a record's function raises, the later records of its
partition are not run (running them first would reorder one aggregate's events); the first failed
record of each partition is reported in `batchItemFailures` and the event source mapping delivers the
partition again from there, so every per-record function must be idempotent. The other partitions of
the batch go on. Powertools' `KafkaEvent` reads the invocation.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

import pg8000.exceptions
import pg8000.native
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEvent, KafkaEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from kafkagram.config import get_settings
from kafkagram.db import connect
from kafkagram.events import Event, spec_for

M = TypeVar("M", bound="EventData")
EventFunction = Callable[[Event], None]


class BadRecord(ValueError):
    """A record that is not an event this handler can read; no retry will change that, so after the
    mapping's retries it lands on the failure topic, where it can be inspected."""


class EventData(BaseModel):
    """Base of a handler's view of `data`: only the fields it reads; ids as ints (they travel as
    strings); unknown fields ignored, as the catalogue asks of consumers."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def decode_event(record: KafkaEventRecord) -> Event:
    """The envelope of one Kafka record (the JSON Schema of `data` binds producers, not consumers)."""
    raw = record.value
    if raw is None:
        raise BadRecord(f"record {record.topic}-{record.partition}@{record.offset} has no value")
    try:
        event = Event.from_json(record.decoded_value)
    except (ValidationError, ValueError) as error:
        raise BadRecord(f"record {record.topic}-{record.partition}@{record.offset} is not an event: {error}") from None
    return event


def event_data(event: Event, model: type[M]) -> M:
    """`event.data` read through `model`; BadRecord when the fields this handler needs are not there."""
    expected = spec_for(event.type).version
    if event.version != expected:  # a breaking change bumps the version: never misread a newer one
        raise BadRecord(f"{event.type} event {event.id} has version {event.version}; this handler reads {expected}")
    try:
        return model.model_validate(event.data)
    except ValidationError as error:
        raise BadRecord(f"{event.type} event {event.id} has unusable data: {error}") from None


# --- the sandbox's database connection ----------------------------------------------------------------

# One connection per sandbox, reused across invocations (a connection costs a TLS handshake and
# authentication); keyed by URL so a changed DATABASE_URL (tests) gets its own.
_connection: tuple[str, pg8000.native.Connection] | None = None


def database() -> pg8000.native.Connection:
    global _connection
    url = get_settings().database_url
    if _connection is None or _connection[0] != url:
        drop_database()
        _connection = (url, connect(url))
    return _connection[1]


def drop_database() -> None:
    """Forget the sandbox's connection (broken, or the URL changed); the next use reconnects."""
    global _connection
    if _connection is not None:
        with suppress(Exception):  # already broken: nothing to release
            _connection[1].close()
        _connection = None


@contextmanager
def transaction() -> Iterator[pg8000.native.Connection]:
    """BEGIN ... COMMIT on the sandbox's connection; ROLLBACK (or a new connection) on any error."""
    connection = _begin()
    try:
        yield connection
        connection.run("COMMIT")
    except BaseException:
        try:
            connection.run("ROLLBACK")
        except Exception:  # the connection itself failed: start the next transaction on a new one
            drop_database()
        raise


def _begin() -> pg8000.native.Connection:
    try:
        connection = database()
        connection.run("BEGIN")
    except (pg8000.exceptions.InterfaceError, OSError):
        # The server or a NAT closed the idle connection while the sandbox was frozen: one reconnect.
        drop_database()
        connection = database()
        connection.run("BEGIN")
    return connection


# --- batches ------------------------------------------------------------------------------------------

def handle_batch(event: dict[str, Any], context: LambdaContext, functions: Mapping[str, EventFunction],
                 logger: Logger, on_failure: Callable[[], None] | None = None) -> dict[str, Any]:
    """Run `functions[type]` for each record, in order; records of other types are skipped (the mapping's
    FilterCriteria normally keeps them away). `on_failure` runs after a record fails (e.g. to drop a
    connection that may be broken). Returns the partial batch response."""

    def run_in_order(events: Sequence[Event]) -> int | None:
        for index, item in enumerate(events):
            try:
                functions[item.type](item)
            except Exception:
                logger.exception("record failed", extra={"event_id": item.id, "event_type": item.type})
                if on_failure is not None:
                    on_failure()
                return index
        return None

    return handle_batch_together(event, context, functions.keys(), run_in_order, logger)


# process(events) -> the index of the first event that failed (retried from there), or None.
BatchFunction = Callable[[Sequence[Event]], int | None]


def handle_batch_together(event: dict[str, Any], context: LambdaContext, types: Collection[str],
                          process: BatchFunction, logger: Logger) -> dict[str, Any]:
    """The one batch runner: `process` gets each partition's events of `types`, in order, at once (push
    uses that for one registry lookup and parallel sends; `handle_batch` runs a function per event). A
    record that is not an event, or the first event `process` reports failed, is the partition's
    failure: it and everything after it are left for the retry. Returns the partial batch response."""
    by_partition: dict[str, list[KafkaEventRecord]] = {}
    for record in KafkaEvent(event).records:
        by_partition.setdefault(f"{record.topic}-{record.partition}", []).append(record)
    failures = []
    for partition, records in by_partition.items():
        decoded: list[tuple[KafkaEventRecord, Event]] = []
        failed: KafkaEventRecord | None = None
        for record in records:
            try:
                item = decode_event(record)
            except BadRecord:
                logger.exception("record failed", extra={"partition": partition, "offset": record.offset})
                failed = record
                break
            if item.type in types:
                decoded.append((record, item))
        try:
            first_failed = process([item for _, item in decoded]) if decoded else None
        except Exception:
            logger.exception("batch failed", extra={"partition": partition})
            first_failed = 0
        if first_failed is not None:
            failed = decoded[first_failed][0]
        if failed is not None:
            failures.append({"itemIdentifier": {"partition": partition, "offset": failed.offset}})
    return {"batchItemFailures": failures}
