"""Failure topics (`kafka://` on-failure destinations): what they hold, why, and putting it back
(`kafkagram dlq` and the status page use it).

Every `<topic>-failed` topic holds Lambda's on-failure records (docs/aws-semantics.md): the condition,
the function, its error, and the whole invocation event of the one record that failed. Kafka keeps
them (nothing here deletes a record); a redrive produces the original records again on their source
topic and commits its progress in the consumer group REDRIVE_GROUP, so the next redrive starts after
what was already redriven and `list` tells pending records from redriven ones.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

FAILED_SUFFIX = "-failed"
REDRIVE_GROUP = "emulator-dlq-redrive"
UNREADABLE = "Unreadable"  # the condition shown for a record that is not an on-failure record
_TIMEOUT_S = 10.0
_QUIET_S = 0.5
# The extension to AWS's failure record that says why a record failed (docs/aws-semantics.md):
# {"code": ..., "message": ...} - the poison code or the function's errorType, and the message.
_REASON_KEY = "reason"


class DlqError(RuntimeError):
    """The broker could not be read or written; the message says what and where."""


@dataclass(frozen=True)
class Failure:
    """One on-failure record, decoded: where it sits, why it is there, and the record that failed."""

    topic: str
    partition: int
    offset: int
    condition: str
    function: str
    function_error: str | None
    error: str | None
    failed_at: str
    source_topic: str
    source_partition: int
    source_offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    redriven: bool = False

    @property
    def event_type(self) -> str | None:
        """The kafkagram event type of the failed record, when it is a kafkagram event."""
        value = self.decoded_value()
        return value.get("type") if isinstance(value, dict) and isinstance(value.get("type"), str) else None

    def decoded_value(self) -> Any:
        if self.value is None:
            return None
        try:
            return json.loads(self.value)
        except ValueError:
            return self.value.decode("utf-8", errors="replace")


def parse_failure(topic: str, partition: int, offset: int, document: bytes, *, redriven: bool = False) -> Failure:
    """A failure record as the runtime and Lambda write it; raises ValueError for anything else."""
    try:
        record = json.loads(document)
        context = record["requestContext"]
        [failed] = [item for batch in record["payload"]["records"].values() for item in batch]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{topic}[{partition}]@{offset} is not an on-failure record: {exc}") from None
    response = record.get("responseContext") or {}
    return Failure(
        topic=topic, partition=partition, offset=offset,
        condition=str(context.get("condition", "?")),
        function=str(context.get("functionArn", "?")).split(":function:", 1)[-1].split(":", 1)[0],
        function_error=response.get("functionError"),
        error=_error_text(record),
        failed_at=str(record.get("timestamp", "")),
        source_topic=str(failed.get("topic", topic.removesuffix(FAILED_SUFFIX))),
        source_partition=int(failed.get("partition", -1)),
        source_offset=int(failed.get("offset", -1)),
        key=_b64(failed.get("key")),
        value=_b64(failed.get("value")),
        headers=[(name, bytes(raw)) for header in failed.get("headers") or [] for name, raw in header.items()],
        redriven=redriven,
    )


def _error_text(record: dict[str, Any]) -> str | None:
    reason = record.get(_REASON_KEY)
    if not isinstance(reason, dict):
        return None
    return ": ".join(str(part) for part in (reason.get("code"), reason.get("message")) if part) or None


def _b64(text: Any) -> bytes | None:
    return base64.b64decode(text) if isinstance(text, str) else None


# ----------------------------------------------------------------------------------------------------
# Reading


def failed_topics(bootstrap_servers: str) -> list[str]:
    try:
        metadata = AdminClient({"bootstrap.servers": bootstrap_servers}).list_topics(timeout=_TIMEOUT_S)
    except KafkaException as exc:
        raise DlqError(f"Kafka at {bootstrap_servers} did not answer: {exc}") from None
    return sorted(name for name in metadata.topics if name.endswith(FAILED_SUFFIX))


def read_failures(bootstrap_servers: str, topic: str) -> list[Failure]:
    """Every record of a failure topic, oldest first per partition, marked redriven or pending."""
    consumer = _consumer(bootstrap_servers)
    try:
        partitions = _partitions(consumer, topic)
        committed: dict[int, int] = {tp.partition: tp.offset
                                     for tp in consumer.committed(partitions, timeout=_TIMEOUT_S)}
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=_TIMEOUT_S)[1] for tp in partitions}
        wanted = {p: end for p, end in ends.items() if end > 0}
        if not wanted:
            return []
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in wanted])
        failures: list[Failure] = []
        reached: dict[int, int] = {}
        while True:
            at_end = all(reached.get(p, -1) + 1 >= end for p, end in wanted.items())
            # Past the reported end, read on until the topic is quiet: Tansu reports the end of a
            # batch of several records as the batch's first offset + 1.
            messages = _next_messages(consumer, _QUIET_S if at_end else _TIMEOUT_S)
            if not messages:
                if at_end:
                    break
                raise DlqError(f"{topic}: the broker stopped answering before the end of the topic")
            for message in messages:
                partition, offset = message.partition(), message.offset()
                if message.error() or partition is None or offset is None:
                    continue
                reached[partition] = offset
                failures.append(_parsed(topic, partition, offset, message.value() or b"",
                                        redriven=offset < committed.get(partition, -1)))
        return failures
    except KafkaException as exc:
        raise DlqError(f"reading {topic} at {bootstrap_servers}: {exc}") from None
    finally:
        consumer.close()


def _next_messages(consumer: Consumer, timeout_s: float) -> list[Message]:
    """Wait up to `timeout_s` for one record, then take what else is there (consume(n, timeout)
    would wait for all n records or the whole timeout)."""
    first = consumer.poll(timeout_s)
    return [] if first is None else [first, *consumer.consume(num_messages=500, timeout=0)]


def _parsed(topic: str, partition: int, offset: int, value: bytes, *, redriven: bool) -> Failure:
    try:
        return parse_failure(topic, partition, offset, value, redriven=redriven)
    except ValueError as exc:  # shown, never dropped and never redriven: not something Lambda wrote
        return Failure(topic, partition, offset, UNREADABLE, "?", None, str(exc), "", "?", -1, -1, None, value)


def _consumer(bootstrap_servers: str) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap_servers, "group.id": REDRIVE_GROUP,
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "enable.partition.eof": False})


def _partitions(consumer: Consumer, topic: str) -> list[TopicPartition]:
    metadata = consumer.list_topics(topic, timeout=_TIMEOUT_S).topics.get(topic)
    if metadata is None or metadata.error is not None:
        raise DlqError(f"no topic {topic}")
    return [TopicPartition(topic, p) for p in sorted(metadata.partitions)]


# ----------------------------------------------------------------------------------------------------
# Summaries


def summary_rows(failures: Iterable[Failure]) -> list[dict[str, Any]]:
    """Pending and redriven records per function, condition and error."""
    counts: Counter[tuple[str, str, str, str, bool]] = Counter(
        (f.topic, f.function, f.condition, f.error or f.function_error or "", f.redriven) for f in failures)
    rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for (topic, function, condition, error, redriven), count in sorted(counts.items()):
        row = rows.setdefault((topic, function, condition, error), {
            "topic": topic, "function": function, "condition": condition, "error": error,
            "pending": 0, "redriven": 0})
        row["redriven" if redriven else "pending"] += count
    return list(rows.values())


def describe(failure: Failure) -> str:
    state = "redriven" if failure.redriven else "pending"
    lines = [f"{failure.topic}[{failure.partition}]@{failure.offset}  {state}  {failure.failed_at}",
             f"  function  {failure.function}   condition {failure.condition}"
             + (f"   functionError {failure.function_error}" if failure.function_error else ""),
             f"  source    {failure.source_topic}[{failure.source_partition}]@{failure.source_offset}"
             f"   key {failure.key.decode('utf-8', 'replace') if failure.key is not None else '-'}"]
    if failure.error:
        lines.append(f"  error     {failure.error}")
    value = failure.decoded_value()
    lines.append("  value     " + (json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# Redrive


@dataclass(frozen=True)
class Redrive:
    topic: str
    produced: dict[str, int]  # source topic -> records produced again
    skipped: int  # unreadable records: left on the topic, shown by `dlq show`, never produced


def redrive(bootstrap_servers: str, topic: str, *, dry_run: bool = False) -> Redrive:
    """Produce every pending record of `topic` again on its source topic (same key, value and headers),
    then mark them redriven. At least once: a crash between the two redrives them again next time,
    which idempotent consumers absorb."""
    pending = [f for f in read_failures(bootstrap_servers, topic) if not f.redriven]
    readable = [f for f in pending if f.condition != UNREADABLE]
    produced = Counter(f.source_topic for f in readable)
    if dry_run or not pending:
        return Redrive(topic, dict(produced), len(pending) - len(readable))
    producer = Producer({"bootstrap.servers": bootstrap_servers, "acks": "all", "enable.idempotence": True})
    for failure in readable:
        headers: list[tuple[str, str | bytes | None]] = list(failure.headers)
        producer.produce(failure.source_topic, value=failure.value, key=failure.key, headers=headers or None)
    if producer.flush(30):
        raise DlqError(f"Kafka at {bootstrap_servers} did not take every redriven record; nothing was marked")
    _mark_redriven(bootstrap_servers, pending)
    return Redrive(topic, dict(produced), len(pending) - len(readable))


def _mark_redriven(bootstrap_servers: str, failures: list[Failure]) -> None:
    last: dict[tuple[str, int], int] = {}
    for failure in failures:
        key = (failure.topic, failure.partition)
        last[key] = max(last.get(key, -1), failure.offset)
    consumer = _consumer(bootstrap_servers)
    try:
        consumer.commit(offsets=[TopicPartition(t, p, offset + 1) for (t, p), offset in last.items()],
                        asynchronous=False)
    finally:
        consumer.close()
