"""The one batch runner of the Kafka-triggered handlers, with Lambda's partial batch response.

A handler module is then: the flow to run per event type, and

    def handler(event, context):
        return handle_batch(event, context, {MEDIA_UPLOADED: on_media_uploaded}, logger)

Failures are per partition and in order: when a record's function raises, the later records of its
partition are not run (running them first would reorder one aggregate's events); the first failed
record of each partition is reported in `batchItemFailures` and the event source mapping delivers the
partition again from there, so every per-record function must be idempotent. The other partitions of
the batch go on. Powertools' `KafkaEvent` reads the invocation.

Poison records (`kafkagram.poison`: not an event, a type the catalogue does not know, or data the
consumer cannot read) are not failures: they go to `<topic>-failed` through `database`'s outbox at
once, and the rest of the batch goes on without them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEvent, KafkaEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from kafkagram import poison
from kafkagram.db import Database
from kafkagram.events import Event, UnexpectedEvent
from kafkagram.observability import count

EventFunction = Callable[[Event], None]
RunFunction = Callable[[Sequence[Event]], None]  # consecutive events of one type, handled together
# process(events) -> the index of the first event that failed (retried from there), or None.
BatchFunction = Callable[[Sequence[Event]], int | None]


def decode_record(record: KafkaEventRecord) -> Event:
    """The envelope of one Kafka record (the JSON Schema of `data` binds producers, not consumers)."""
    where = f"record {record.topic}-{record.partition}@{record.offset}"
    if record.get("value") is None:  # AWS leaves the field out of a record without a value; null is read alike
        raise UnexpectedEvent(f"{where} has no value")
    try:
        return Event.from_json(record.decoded_value)
    except (ValidationError, ValueError) as error:
        raise UnexpectedEvent(f"{where} is not an event: {error}") from None


def handle_batch(event: dict[str, Any], context: LambdaContext, functions: Mapping[str, EventFunction],
                 logger: Logger, database: Database) -> dict[str, Any]:
    """Run `functions[type]` for each record, in order; records of other types are skipped (the mapping's
    FilterCriteria normally keeps them away). Returns the partial batch response."""

    def run_in_order(events: Sequence[Event]) -> int | None:
        for index, item in enumerate(events):
            try:
                functions[item.type](item)
            except UnexpectedEvent:
                raise  # poison: the runner diverts it
            except Exception:
                logger.exception("record failed", extra={"event_id": item.id, "event_type": item.type})
                return index
        return None

    return handle_batch_together(event, context, functions.keys(), run_in_order, logger, database)


def handle_batch_in_runs(event: dict[str, Any], context: LambdaContext, functions: Mapping[str, RunFunction],
                         logger: Logger, database: Database) -> dict[str, Any]:
    """Like `handle_batch`, but each run of consecutive events of one type goes to `functions[type]` at
    once (fan-out writes a run of posts in a few round trips). A run that fails is retried whole, from
    its first event: its function must be idempotent as a whole."""

    def run_in_order(events: Sequence[Event]) -> int | None:
        start = 0
        while start < len(events):
            end = start + 1
            while end < len(events) and events[end].type == events[start].type:
                end += 1
            try:
                functions[events[start].type](events[start:end])
            except UnexpectedEvent:
                raise  # poison: the runner diverts it
            except Exception:
                logger.exception("run failed", extra={"event_id": events[start].id, "event_type": events[start].type,
                                                      "events": end - start})
                return start
            start = end
        return None

    return handle_batch_together(event, context, functions.keys(), run_in_order, logger, database)


def handle_batch_together(event: dict[str, Any], context: LambdaContext, types: Collection[str],
                          process: BatchFunction, logger: Logger, database: Database) -> dict[str, Any]:
    """`process` gets each partition's events of `types`, in order, at once (push uses that for one
    registry lookup and parallel sends; `handle_batch` runs a function per event). Poison records are
    diverted (`kafkagram.poison`); the first event `process` reports failed (or a poison record that could
    not be diverted) is the partition's failure: it and everything after it are left for the retry.
    Returns the partial batch response."""
    by_partition: dict[str, list[KafkaEventRecord]] = {}
    for record in KafkaEvent(event).records:
        by_partition.setdefault(f"{record.topic}-{record.partition}", []).append(record)
    failures = []
    diverter = poison.Diverter(database, event, context)
    for partition, records in by_partition.items():
        decoded: list[tuple[KafkaEventRecord, Event]] = []
        failed: KafkaEventRecord | None = None
        for record in records:
            item: Event | None = None
            try:
                item = decode_record(record)
                reason = poison.unknown_type(item)
            except UnexpectedEvent as error:
                reason = poison.not_an_event(error)
            if reason is not None:
                if not _divert(diverter, record, reason, logger):
                    failed = record
                    break
            elif item is not None and item.type in types:
                decoded.append((record, item))
        first_failed = _process(process, decoded, diverter, logger, partition)
        if first_failed is not None:
            failed = decoded[first_failed][0]
        if failed is not None:
            failures.append({"itemIdentifier": {"partition": partition, "offset": failed.offset}})
    return {"batchItemFailures": failures}


def _divert(diverter: poison.Diverter, record: KafkaEventRecord, reason: poison.Reason, logger: Logger) -> bool:
    """Send a poison record to its failure topic; False when that failed (retried as a transient failure)."""
    where = {"partition": f"{record.topic}-{record.partition}", "offset": record.offset, "reason": reason.code}
    try:
        diverter.divert(record.raw_event, reason)
    except Exception:
        logger.exception("poison record not diverted", extra=where)
        return False
    logger.warning("poison record diverted", extra={**where, "detail": reason.message})
    count("PoisonRecordsDiverted")
    return True


def _process(process: BatchFunction, decoded: list[tuple[KafkaEventRecord, Event]], diverter: poison.Diverter,
             logger: Logger, partition: str) -> int | None:
    """`process` the partition's events; an event it cannot read is diverted and the others are processed
    again without it (every function is idempotent). Returns the index in `decoded` (which loses the
    diverted entries) of the first failed event, or None."""
    while decoded:
        try:
            return process([item for _, item in decoded])
        except UnexpectedEvent as error:
            poisoned = [(record, item) for record, item in decoded if item.id == error.event_id]
            if not poisoned:  # not about one of these events: a bug, retried like any failure
                logger.exception("batch failed", extra={"partition": partition})
                return 0
            if not all(_divert(diverter, record, poison.invalid_event(item, error), logger)
                       for record, item in poisoned):
                return decoded.index(poisoned[0])
            decoded[:] = [entry for entry in decoded if entry[1].id != error.event_id]
        except Exception:
            logger.exception("batch failed", extra={"partition": partition})
            return 0
    return None
