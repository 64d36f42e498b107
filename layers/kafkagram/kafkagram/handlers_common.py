"""Plumbing shared by the Kafka-triggered handlers: envelope decoding, the sandbox's database
connection and its transactions, and Powertools' partial batch response.

A handler module is then: a data model of the fields it reads, one function per event type, and

    def handler(event, context):
        return handle_batch(event, context, {"media-uploaded": on_media_uploaded}, logger)

Failures are per record: a record whose function raises is reported in `batchItemFailures`
(Powertools' `BatchProcessor(EventType.Kafka)`), the event source mapping resumes from the lowest
failed offset of the partition, so the records after it are delivered again: every per-record
function must be idempotent. When every record fails the whole invocation fails (same retry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

import pg8000.exceptions
import pg8000.native
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
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
                 logger: Logger) -> PartialItemFailureResponse:
    """Run `functions[type]` for each record; records of other types are skipped (the mapping's
    FilterCriteria normally keeps them away). Returns the partial batch response."""

    def on_record(record: KafkaEventRecord) -> None:
        where = {"partition": f"{record.topic}-{record.partition}", "offset": record.offset}
        try:
            decoded = decode_event(record)
            function = functions.get(decoded.type)
            if function is None:
                logger.debug("skipped event type", extra={**where, "event_type": decoded.type})
                return
            function(decoded)
        except Exception:
            logger.exception("record failed", extra=where)
            raise

    # A new processor per invocation: it keeps per-batch state.
    processor = BatchProcessor(event_type=EventType.Kafka)
    return process_partial_response(event=event, record_handler=on_record, processor=processor, context=context)
