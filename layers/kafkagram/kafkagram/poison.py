"""Poison records: a record that can never succeed goes to `<topic>-failed` at once, from the function.

A record that is not an event (bad base64, not UTF-8, not JSON, not an envelope), whose type the
catalogue does not know, or that its consumer cannot read (`UnexpectedEvent` from `read_data`: the
data lacks what the consumer needs, or has a version it does not read) fails the same way however often
it is retried. Left to the event source mapping, it would be retried while it holds its partition (on
AWS up to MaximumRetryAttempts or the record age), and only then sent to the OnFailure destination. So
the batch runner (`kafkagram.batches`) classifies it as poison and diverts it here: one outbox row for
`<source topic>-failed` holding the failure record Lambda writes to a kafka:// destination, plus a
`reason` ({"code", "message"}), in the transaction that also marks the record diverted (a redelivered
batch diverts it once). The runner then goes on with the rest of the batch, and the invocation
succeeds. The same code runs on AWS: nothing here depends on the local runtime.

Everything else (PostgreSQL, Redis, S3 or SMTP down, a bug raising another exception) is transient
and raises as before: the record is reported failed and the mapping retries it. Diverting itself
writes to PostgreSQL; when that fails the record is treated as transient too, and retried.

Schemas are not checked up front: the catalogue's JSON Schemas bind producers, consumers read the
fields they need (`read_data`), and checking every record against its schema would cost up to a
millisecond a record on the hot paths (fan-out, push). A record whose data the consumer cannot read
is diverted with its schema errors as the message.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.config import failure_topic
from kafkagram.db import Database
from kafkagram.events import CATALOG, Event, EventValidationError, UnexpectedEvent, validate
from kafkagram.events.catalog import FAILURE_MESSAGE_MAX_LENGTH
from kafkagram.idempotency import first_time
from kafkagram.outbox import enqueue_record

# The failure record's requestContext.condition for a record the function diverted (Lambda's own are
# RetriesExhausted, MaximumPayloadSizeExceeded and, locally, RecordAgeExceeded).
POISON_CONDITION = "PoisonRecord"
# reason.code: why the record can never succeed.
NOT_AN_EVENT = "not-an-event"  # not base64, not UTF-8, not JSON, or not an event envelope
UNKNOWN_EVENT_TYPE = "unknown-event-type"  # a type the catalogue does not know
INVALID_EVENT = "invalid-event"  # its data does not hold what the consumer reads (its schema fails)
REASON_CODES = (NOT_AN_EVENT, UNKNOWN_EVENT_TYPE, INVALID_EVENT)
CONSUMER_PREFIX = "poison:"  # processed_events consumer of a function's diverted records


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # one of REASON_CODES
    message: str


def not_an_event(error: Exception) -> Reason:
    return Reason(NOT_AN_EVENT, str(error))


def unknown_type(event: Event) -> Reason | None:
    """The reason an event of a type the catalogue does not know is poison; None for a known type."""
    if event.type in CATALOG:
        return None
    return Reason(UNKNOWN_EVENT_TYPE, f"event {event.id} has type {event.type!r}, which the catalogue does not know")


def invalid_event(event: Event, error: UnexpectedEvent) -> Reason:
    """Why the consumer could not read the event: its schema errors when the schema fails, else what the
    consumer said (a version it does not read, a type it does not handle)."""
    try:
        validate(event)
    except EventValidationError as invalid:
        return Reason(INVALID_EVENT, str(invalid))
    return Reason(INVALID_EVENT, str(error))


def is_poison(error: BaseException) -> bool:
    """Whether an error raised while handling a record means it can never succeed (else it is transient)."""
    return isinstance(error, UnexpectedEvent)


def failure_record(event: Mapping[str, Any], record: Mapping[str, Any], reason: Reason,
                   context: LambdaContext, now: datetime | None = None) -> dict[str, Any]:
    """What Lambda writes to a kafka:// on-failure destination for one record (docs/aws-semantics.md), with
    condition POISON_CONDITION and the `reason` extension. `event` is the invocation event, `record` one of
    its records as the event holds it (base64 key and value)."""
    payload: dict[str, Any] = {key: event[key] for key in ("eventSource", "eventSourceArn", "bootstrapServers")
                               if key in event}
    payload["records"] = {f"{record.get('topic')}-{record.get('partition')}": [dict(record)]}
    message = reason.message.replace("\x00", "\\u0000")[:FAILURE_MESSAGE_MAX_LENGTH]  # jsonb holds no NUL
    return {
        "requestContext": {
            "requestId": context.aws_request_id,
            "functionArn": _qualified_arn(context),
            "condition": POISON_CONDITION,
            "approximateInvokeCount": 1,
        },
        # The function ran and returned success: it rejected the record, it did not fail.
        "responseContext": {"statusCode": 200, "executedVersion": context.function_version, "functionError": None},
        "version": "1.0",
        "timestamp": _iso_ms(now or datetime.now(UTC)),
        "KafkaBatchInfo": {
            "batchSize": 1,
            "eventSourceArn": event.get("eventSourceArn"),
            "bootstrapServers": event.get("bootstrapServers"),
            "payloadSize": len(json.dumps(payload, separators=(",", ":")).encode()),
            "recordInfo": {"offset": str(record.get("offset")),
                           "timestamp": _iso_ms(datetime.fromtimestamp(int(record.get("timestamp") or 0) / 1000,
                                                                       UTC))},
        },
        "payload": payload,
        "reason": {"code": reason.code, "message": message},
    }


def record_key(record: Mapping[str, Any]) -> str | None:
    """The key to produce the failure record with: the original one, or none (the partitioner then
    spreads them) when there is none or it cannot be text."""
    raw = record.get("key")
    if raw is None:
        return None
    try:
        key = base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return None if "\x00" in key else key


class Diverter:
    """Sends one invocation's poison records to their failure topics (through `database`'s outbox)."""

    def __init__(self, database: Database, event: Mapping[str, Any], context: LambdaContext) -> None:
        self.database = database
        self.event = event
        self.context = context

    def divert(self, record: Mapping[str, Any], reason: Reason) -> None:
        """Write the failure record, once per record position and function; raises when PostgreSQL does
        (the caller then retries the record as a transient failure)."""
        document = failure_record(self.event, record, reason, self.context)
        position = f"{record.get('topic')}-{record.get('partition')}@{record.get('offset')}"
        with self.database.transaction() as conn:
            if first_time(conn, CONSUMER_PREFIX + self.context.function_name, position):
                enqueue_record(conn, failure_topic(str(record.get("topic"))), record_key(record), document)


def _qualified_arn(context: LambdaContext) -> str:
    arn = context.invoked_function_arn
    # arn:aws:lambda:region:account:function:name[:qualifier]; Lambda's records name the version.
    return arn if arn.count(":") >= 7 else f"{arn}:{context.function_version}"


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
