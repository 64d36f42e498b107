"""Kafka records as Lambda sees them: the invocation event and the on-failure destination record."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from array import array
from datetime import UTC, datetime
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Message

# JSON overhead of one record in the event besides its key, value and headers (keys, numbers, quotes).
_RECORD_OVERHEAD_BYTES = 160


class KafkaRecord(NamedTuple):
    """One consumed record, kept as bytes until an invocation needs it as JSON.

    A named tuple: cheap to build on the poller's hot path and to send to a sandbox."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    log_append_time: bool
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]] | None

    @classmethod
    def from_message(cls, message: Message) -> KafkaRecord:
        timestamp_type, timestamp = message.timestamp()
        return cls(message.topic() or "", message.partition() or 0, message.offset() or 0, timestamp,
                   timestamp_type == TIMESTAMP_LOG_APPEND_TIME, message.key(), message.value(),
                   message.headers())  # type: ignore[arg-type]

    @classmethod
    def from_messages(cls, messages: list[Message]) -> list[KafkaRecord]:
        """Many records at once: tuple.__new__ via _make, without per-field Python calls."""
        make = cls._make
        records = []
        for message in messages:
            timestamp_type, timestamp = message.timestamp()
            records.append(make((message.topic(), message.partition(), message.offset(), timestamp,
                                 timestamp_type == TIMESTAMP_LOG_APPEND_TIME, message.key(), message.value(),
                                 message.headers())))
        return records

    @property
    def payload_size(self) -> int:
        """Bytes this record adds to the invocation payload (base64 grows data by 4/3)."""
        size = _RECORD_OVERHEAD_BYTES + len(self.topic)
        if self.key:
            size += (len(self.key) + 2) // 3 * 4
        if self.value:
            size += (len(self.value) + 2) // 3 * 4
        if self.headers:
            size += sum(len(name) + 8 + 5 * len(value or b"") for name, value in self.headers)
        return size

    def to_event_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": self.timestamp_ms,
            "timestampType": "LOG_APPEND_TIME" if self.log_append_time else "CREATE_TIME",
        }
        # A record without a key (or a tombstone without a value) has no such field at all, as in AWS's
        # sample events; null is never sent.
        if self.key is not None:
            record["key"] = base64.b64encode(self.key).decode("ascii")
        if self.value is not None:
            record["value"] = base64.b64encode(self.value).decode("ascii")
        # Java byte[] semantics: values are signed bytes, as AWS sends them.
        record["headers"] = [{name: array("b", value or b"").tolist()} for name, value in self.headers or ()]
        return record

    def metadata(self) -> dict[str, Any]:
        """The record's fields other than value, for filter patterns on metadata."""
        event_record = self.to_event_record()
        event_record.pop("value", None)
        return event_record


def partition_key(topic: str, partition: int) -> str:
    return f"{topic}-{partition}"


def invocation_event(records: list[KafkaRecord], *, event_source: str, event_source_arn: str | None,
                     bootstrap_servers: str) -> dict[str, Any]:
    """The event Lambda passes to a Kafka-triggered function (records grouped by topic-partition)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(partition_key(record.topic, record.partition), []).append(record.to_event_record())
    event: dict[str, Any] = {"eventSource": event_source}
    if event_source_arn is not None:
        event["eventSourceArn"] = event_source_arn
    event["bootstrapServers"] = bootstrap_servers
    event["records"] = grouped
    return event


# ------------------------------------------------------------------------------------------------------
# The hot path: a batch travels to the sandbox as columns (one list per field, taken from the messages
# with map() over C methods) and the sandbox builds the event from them with one comprehension.

BatchColumns = tuple[str, int, list[int], list[tuple[int, int]], list[bytes | None], list[bytes | None],
                     list[list[tuple[str, bytes | None]] | None] | None]

_offset_of = Message.offset
_timestamp_of = Message.timestamp
_key_of = Message.key
_value_of = Message.value
_headers_of = Message.headers


def batch_columns(messages: list[Message]) -> BatchColumns:
    """One partition's messages as columns: few C calls per record, nothing built per record in Python."""
    first = messages[0]
    headers: list[Any] = list(map(_headers_of, messages))
    return (first.topic() or "", first.partition() or 0, list(map(_offset_of, messages)),  # type: ignore[arg-type]
            list(map(_timestamp_of, messages)), list(map(_key_of, messages)), list(map(_value_of, messages)),
            headers if any(headers) else None)


_b2a_base64 = binascii.b2a_base64
_TIMESTAMP_TYPES = ("CREATE_TIME", "LOG_APPEND_TIME")
_second = itemgetter(1)
_first = itemgetter(0)


def _base64_all(items: list[bytes | None]) -> list[str | None] | list[str]:
    """Base64 of each item (None stays None). b2a_base64 ends each with a newline: one join, one
    decode and one split make every string at once, cheaper than a decode per item."""
    if None in items:
        return [None if item is None else _b2a_base64(item, newline=False).decode() for item in items]
    encoded = b"".join(map(_b2a_base64, items)).decode().split("\n")  # type: ignore[arg-type]
    encoded.pop()  # after the last newline
    return encoded


def _event_headers(headers: list[tuple[str, bytes | None]] | None) -> list[dict[str, list[int]]]:
    # Java byte[] semantics: values are signed bytes, as AWS sends them.
    return [{name: array("b", value or b"").tolist()} for name, value in headers or ()]


def records_from_columns(columns: BatchColumns) -> list[dict[str, Any]]:
    """The event's records of one partition, exactly as KafkaRecord.to_event_record renders each."""
    topic, partition, _offsets, timestamps, keys, values, _headers = columns
    kinds = set(map(_first, timestamps))
    mixed = TIMESTAMP_LOG_APPEND_TIME in kinds and len(kinds) > 1
    kind = "LOG_APPEND_TIME" if TIMESTAMP_LOG_APPEND_TIME in kinds else "CREATE_TIME"
    # Copies of one record filled in: cheaper than a dict display of 8 keys, which grows its table.
    template = {"topic": topic, "partition": partition, "offset": 0, "timestamp": 0, "timestampType": kind,
                "key": None, "value": None, "headers": None}
    if None in keys or None in values:  # absent keys or values: those fields are left out (AWS's shape)
        return [_without_absent(record, key, value)
                for record, key, value in zip(_records_from_columns(columns, template, mixed, kind), keys,
                                              values, strict=True)]
    return _records_from_columns(columns, template, mixed, kind)


def _without_absent(record: dict[str, Any], key: bytes | None, value: bytes | None) -> dict[str, Any]:
    if key is None:
        del record["key"]
    if value is None:
        del record["value"]
    return record


def _records_from_columns(columns: BatchColumns, template: dict[str, Any], mixed: bool,
                          kind: str) -> list[dict[str, Any]]:
    _topic, _partition, offsets, timestamps, keys, values, headers = columns
    copy = template.copy
    records: list[dict[str, Any]] = []
    append = records.append
    if headers is None and not mixed:  # the usual batch
        for offset, timestamp, key, value in zip(offsets, map(_second, timestamps), _base64_all(keys),
                                                 _base64_all(values), strict=True):
            record = copy()
            record["offset"] = offset
            record["timestamp"] = timestamp
            record["key"] = key
            record["value"] = value
            record["headers"] = []
            append(record)
        return records
    for offset, (timestamp_type, timestamp), key, value, header in zip(
            offsets, timestamps, _base64_all(keys), _base64_all(values), headers or repeat(None), strict=False):
        record = copy()
        record["offset"] = offset
        record["timestamp"] = timestamp
        if mixed:
            record["timestampType"] = _TIMESTAMP_TYPES[timestamp_type == TIMESTAMP_LOG_APPEND_TIME]
        record["key"] = key
        record["value"] = value
        record["headers"] = _event_headers(header)
        append(record)
    return records


def event_from_batch(payload: tuple[dict[str, Any], BatchColumns]) -> dict[str, Any]:
    """Build the invocation event inside the sandbox, off the poller's core (see FunctionPool.invoke)."""
    header, columns = payload
    event: dict[str, Any] = {"eventSource": header["event_source"]}
    if header["event_source_arn"] is not None:
        event["eventSourceArn"] = header["event_source_arn"]
    event["bootstrapServers"] = header["bootstrap_servers"]
    event["records"] = {partition_key(columns[0], columns[1]): records_from_columns(columns)}
    return event


def _iso_ms(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def failure_record(record: KafkaRecord, *, condition: str, function_arn: str, invoke_count: int,
                   function_error: str | None, event_source_arn: str | None, event_source: str,
                   bootstrap_servers: str, now_ms: int) -> bytes:
    """What Lambda writes to a kafka:// on-failure destination for one failed record."""
    payload = invocation_event([record], event_source=event_source, event_source_arn=event_source_arn,
                               bootstrap_servers=bootstrap_servers)
    payload_text = json.dumps(payload, separators=(",", ":"))
    response_context = None if function_error is None else {
        "statusCode": 200, "executedVersion": "$LATEST", "functionError": function_error,
    }
    document = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": _iso_ms(now_ms),
        "KafkaBatchInfo": {
            "batchSize": 1,
            "eventSourceArn": event_source_arn,
            "bootstrapServers": bootstrap_servers,
            "payloadSize": len(payload_text.encode()),
            "recordInfo": {"offset": str(record.offset), "timestamp": _iso_ms(record.timestamp_ms)},
        },
        "payload": payload,
    }
    return json.dumps(document, separators=(",", ":")).encode()
