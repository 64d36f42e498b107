"""The poller of one Kafka event source mapping: consume, batch, invoke, retry, commit.

One poller process is one member of the mapping's consumer group. It keeps at most one batch in
flight per partition (ordering) and runs batches of different partitions in parallel, each on a
sandbox of the function. Offsets are committed only after a batch has succeeded, been filtered
out, or had its failed records written to the on-failure destination: at least once, never lost.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from emulator.kafka.esm import MAX_PAYLOAD_BYTES, EventSourceMapping
from emulator.kafka.filters import RecordFilter
from emulator.kafka.records import KafkaRecord, failure_record, partition_key
from emulator.sandbox import FunctionPool, Invocation

logger = Logger(service="emulator-kafka")

RETRY_BACKOFF_START_S = 0.1
RETRY_BACKOFF_MAX_S = 5.0
IDLE_POLL_S = 0.1
FETCH_WAIT_MAX_MS = 25  # see _consumer_config
BUSY_POLL_S = 0.01
STATS_INTERVAL_S = 1.0
MAX_BUFFERED_PER_PARTITION = 20_000
EVENT_BUILDER = "emulator.kafka.records:event_from_records"


# Room per record for JSON framing, a key and headers, in the cheap payload bound.
_SMALL_RECORD_SLACK_BYTES = 2048


def _payload_estimate(message: Message) -> int:
    key = message.key()
    size = 200 + (len(message) + (len(key) if key else 0)) * 4 // 3
    headers: list[tuple[str, Any]] = message.headers() or []  # type: ignore[assignment]
    return size + sum(len(name) + 8 + 5 * len(value or b"") for name, value in headers)


class _Abandoned(Exception):
    """The partition was revoked or the poller is stopping: leave the batch uncommitted."""


@dataclass
class PollerOptions:
    bootstrap_servers: str
    region: str
    max_concurrency: int = 4
    session_timeout_ms: int = 6000
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass
class _Partition:
    topic: str
    partition: int
    buffer: deque[Message] = field(default_factory=deque)  # converted to KafkaRecord off the hot path
    buffered_since: float | None = None
    in_flight: Future[int] | None = None
    committed: int = -1
    seen: int = -1
    high_watermark: int = -1
    paused: bool = False
    abandoned: threading.Event = field(default_factory=threading.Event)

    @property
    def key(self) -> str:
        return partition_key(self.topic, self.partition)


@dataclass
class PollerStats:
    """Counters since the last report, plus per-partition offsets."""

    invocations: int = 0
    errors: int = 0
    records: int = 0
    filtered: int = 0
    to_destination: int = 0
    durations_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def drain(self) -> dict[str, Any]:
        with self.lock:
            snapshot = {
                "invocations": self.invocations, "errors": self.errors, "records": self.records,
                "filtered": self.filtered, "to_destination": self.to_destination,
                "durations_ms": self.durations_ms,
            }
            self.invocations = self.errors = self.records = self.filtered = self.to_destination = 0
            self.durations_ms = []
        return snapshot


class BatchDelivery:
    """Delivers one partition's batch to the function with the mapping's error-handling rules."""

    def __init__(self, mapping: EventSourceMapping, pool: FunctionPool, record_filter: RecordFilter,
                 send_to_destination: Callable[[list[KafkaRecord], str, int, str | None], None],
                 bootstrap_servers: str, stats: PollerStats) -> None:
        self.mapping = mapping
        self.pool = pool
        self.filter = record_filter
        self.send_to_destination = send_to_destination
        self.bootstrap_servers = bootstrap_servers
        self.stats = stats

    def deliver(self, messages: list[Message], abandoned: threading.Event) -> int:
        """Process the batch to completion; returns the offset to commit (last offset + 1)."""
        records = KafkaRecord.from_messages(messages)
        matched = records
        if not self.filter.matches_everything:
            matched = [r for r in records if self.filter.matches(r.value, r.metadata())]
            with self.stats.lock:
                self.stats.filtered += len(records) - len(matched)
        # Only a record near the limit by itself can exceed it; looking at each size costs time.
        if max(map(len, messages)) > MAX_PAYLOAD_BYTES // 2:
            oversize = [r for r in matched if r.payload_size > MAX_PAYLOAD_BYTES]
            if oversize:
                self._give_up(oversize, "MaximumPayloadSizeExceeded", 0, None)
                matched = [r for r in matched if r.payload_size <= MAX_PAYLOAD_BYTES]
        if matched:
            self._deliver_with_retries(matched, abandoned)
        return records[-1].offset + 1

    def _deliver_with_retries(self, pending: list[KafkaRecord], abandoned: threading.Event) -> None:
        retries = 0
        while pending:
            pending = self._drop_expired(pending, retries)
            if not pending:
                return
            invocation = self._invoke(pending)
            failed_from, reported = self._first_failure(invocation, pending)
            if failed_from is None:
                return
            if failed_from == 0 and not reported and self.mapping.bisect_batch_on_error and len(pending) > 1:
                half = len(pending) // 2
                self._deliver_with_retries(pending[:half], abandoned)
                self._deliver_with_retries(pending[half:], abandoned)
                return
            pending = pending[failed_from:]
            retries += 1
            limit = self.mapping.retry_limit
            if limit >= 0 and retries > limit:
                # With a partial batch response, only the records the function reported failed are lost.
                failed = [r for r in pending if r.offset in reported] if reported else pending
                self._give_up(failed, "RetriesExhausted", retries, invocation.function_error or "Unhandled")
                return
            backoff = min(RETRY_BACKOFF_MAX_S, RETRY_BACKOFF_START_S * 2 ** (retries - 1))
            if abandoned.wait(backoff):
                raise _Abandoned

    def _invoke(self, records: list[KafkaRecord]) -> Invocation:
        header = {"event_source": self.mapping.event_source, "event_source_arn": self.mapping.event_source_arn,
                  "bootstrap_servers": self.bootstrap_servers}
        # Plain tuples pickle in C; named tuples would call back into Python for every record.
        invocation = self.pool.invoke((header, [tuple(record) for record in records]), event_builder=EVENT_BUILDER)
        with self.stats.lock:
            self.stats.invocations += 1
            self.stats.durations_ms.append(invocation.duration_ms)
            if invocation.ok:
                self.stats.records += len(records)
            else:
                self.stats.errors += 1
        log = logger.info if invocation.ok else logger.warning
        log("invocation", extra={
            "function": self.mapping.function.function_name, "esm": self.mapping.name,
            "partition": records[0].partition, "first_offset": records[0].offset, "batch_size": len(records),
            "duration_ms": round(invocation.duration_ms, 2), "outcome": invocation.outcome,
            "request_id": invocation.request_id, "error": invocation.error,
        })
        return invocation

    def _first_failure(self, invocation: Invocation, pending: list[KafkaRecord]) -> tuple[int | None, set[int]]:
        """Index of the first record to retry (None when the batch succeeded) and the offsets the
        function reported failed in a partial batch response."""
        if not invocation.ok:
            return 0, set()
        response = invocation.payload
        if not self.mapping.report_batch_item_failures or not isinstance(response, dict):
            return None, set()
        failures = response.get("batchItemFailures")
        if not failures:
            return None, set()
        index_by_offset = {record.offset: index for index, record in enumerate(pending)}
        key = partition_key(pending[0].topic, pending[0].partition)
        reported: set[int] = set()
        for failure in failures if isinstance(failures, list) else [failures]:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            offset = identifier.get("offset") if isinstance(identifier, dict) else None
            where = identifier.get("partition", identifier.get("topic-partition")) if identifier else None
            # An identifier that was not in the event fails the whole batch, as AWS does.
            if where != key or not isinstance(offset, int | str) or int(offset) not in index_by_offset:
                with self.stats.lock:
                    self.stats.errors += 1
                return 0, set()
            reported.add(int(offset))
        with self.stats.lock:
            self.stats.errors += 1
        # Like a checkpoint: every record before the lowest failed one is done.
        return min(index_by_offset[offset] for offset in reported), reported

    def _drop_expired(self, pending: list[KafkaRecord], retries: int) -> list[KafkaRecord]:
        max_age = self.mapping.maximum_record_age_s
        if max_age < 0:
            return pending
        oldest_allowed = time.time() * 1000 - max_age * 1000
        expired = [r for r in pending if r.timestamp_ms < oldest_allowed]
        if expired:
            self._give_up(expired, "RecordAgeExceeded", retries, "Unhandled" if retries else None)
        return [r for r in pending if r.timestamp_ms >= oldest_allowed]

    def _give_up(self, records: list[KafkaRecord], condition: str, invocations: int, error: str | None) -> None:
        self.send_to_destination(records, condition, invocations, error)
        with self.stats.lock:
            self.stats.to_destination += len(records)


class Poller:
    """One consumer-group member of a Kafka event source mapping."""

    def __init__(self, mapping: EventSourceMapping, options: PollerOptions,
                 report: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.mapping = mapping
        self.options = options
        self.report = report or (lambda _stats: None)
        self.stats = PollerStats()
        self.partitions: dict[tuple[str, int], _Partition] = {}
        self.stop_requested = threading.Event()
        self.pool = FunctionPool(mapping.function, region=options.region, extra_env=options.extra_env,
                                 max_workers=options.max_concurrency)
        self.executor = ThreadPoolExecutor(max_workers=options.max_concurrency,
                                           thread_name_prefix=f"esm-{mapping.name}")
        self.consumer = Consumer(self._consumer_config())
        self.producer: Producer | None = None
        self.delivery = BatchDelivery(mapping, self.pool, RecordFilter.from_criteria(mapping.filter_criteria),
                                      self._send_to_destination, options.bootstrap_servers, self.stats)
        self._last_report = time.monotonic()
        self._batch_done = threading.Event()

    def _consumer_config(self) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.options.bootstrap_servers,
            "group.id": self.mapping.consumer_group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "latest" if self.mapping.starting_position == "LATEST" else "earliest",
            "session.timeout.ms": self.options.session_timeout_ms,
            "heartbeat.interval.ms": max(100, self.options.session_timeout_ms // 3),
            "max.poll.interval.ms": max(300_000, int(self.mapping.function.timeout * 1000 * 2)),
            "partition.assignment.strategy": "range",
            "client.id": f"lambda-esm-{self.mapping.name}",
            # Kafka answers a waiting fetch as soon as records arrive; Tansu holds it for up to this
            # long regardless (measured: p50 52 ms, max 251 ms at librdkafka's 500 ms default; 4 ms at
            # 10 ms), which every hop of a flow would add. Idle cost: a fetch per 25 ms per poller.
            "fetch.wait.max.ms": FETCH_WAIT_MAX_MS,
        }

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> None:
        self.consumer.subscribe([self.mapping.topic], on_assign=self._on_assign, on_revoke=self._on_revoke,
                                on_lost=self._on_revoke)
        logger.info("poller started", extra={"esm": self.mapping.name, "topic": self.mapping.topic,
                                             "group": self.mapping.consumer_group_id})
        try:
            while not self.stop_requested.is_set():
                self._poll_once()
        finally:
            self._shutdown()

    def stop(self) -> None:
        self.stop_requested.set()

    def _shutdown(self) -> None:
        for state in self.partitions.values():
            state.abandoned.set()
        self._finish_in_flight(list(self.partitions.values()))
        with contextlib.suppress(KafkaException, RuntimeError):
            self.consumer.close()
        self.executor.shutdown(wait=True)
        self.pool.close()
        if self.producer is not None:
            self.producer.flush(10)
        self._report_stats(force=True)

    # ------------------------------------------------------------------ the loop

    def _poll_once(self) -> None:
        busy = any(state.in_flight is not None for state in self.partitions.values())
        # While batches run, fetch without blocking and sleep on the completion signal instead, so a
        # finished batch is committed and the partition's next one dispatched at once.
        messages = self.consumer.consume(num_messages=max(self.mapping.batch_size, 500),
                                         timeout=0 if busy else self._idle_timeout())
        if busy and not messages:
            self._batch_done.wait(BUSY_POLL_S)
        self._batch_done.clear()
        self._buffer(messages)
        self._commit_finished()
        self._dispatch_ready()
        self._apply_backpressure()
        self._report_stats()

    def _buffer(self, messages: list[Message]) -> None:
        """The hot path: a couple of C calls per record; records are decoded in the delivery thread."""
        now = time.monotonic()
        partitions = self.partitions
        topic = self.mapping.topic
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    logger.warning("consumer error", extra={"esm": self.mapping.name, "error": str(error)})
                continue
            state = partitions.get((topic, message.partition()))  # type: ignore[arg-type]
            if state is None:
                continue  # a record fetched just before its partition was revoked
            if not state.buffer:
                state.buffered_since = now
            state.buffer.append(message)
        for state in partitions.values():
            if state.buffer:
                state.seen = state.buffer[-1].offset() or 0

    def _idle_timeout(self) -> float:
        waits = [
            self.mapping.batching_window_s - (time.monotonic() - state.buffered_since)
            for state in self.partitions.values() if state.buffer and state.buffered_since is not None
        ]
        return max(0.0, min([IDLE_POLL_S, *waits]))

    def _batch_ready(self, state: _Partition) -> bool:
        if not state.buffer or state.in_flight is not None:
            return False
        if len(state.buffer) >= self.mapping.batch_size:
            return True
        waited = time.monotonic() - (state.buffered_since or time.monotonic())
        return waited >= self.mapping.batching_window_s

    def _take_batch(self, state: _Partition) -> list[Message]:
        buffer = state.buffer
        count = min(len(buffer), self.mapping.batch_size)
        batch = [buffer.popleft() for _ in range(count)]
        # Keep the invocation under Lambda's 6 MB payload (values and keys are base64 in the event).
        # A cheap bound on the values (len() of a message is its value's length) settles most batches.
        if sum(map(len, batch)) * 4 // 3 + count * _SMALL_RECORD_SLACK_BYTES <= MAX_PAYLOAD_BYTES:
            state.buffered_since = time.monotonic() if buffer else None
            return batch
        payload = 0
        for index, message in enumerate(batch):
            payload += _payload_estimate(message)
            if payload > MAX_PAYLOAD_BYTES and index > 0:
                buffer.extendleft(reversed(batch[index:]))
                batch = batch[:index]
                break
        state.buffered_since = time.monotonic() if buffer else None
        return batch

    def _dispatch_ready(self) -> None:
        for state in self.partitions.values():
            if self._batch_ready(state):
                batch = self._take_batch(state)
                state.in_flight = self.executor.submit(self.delivery.deliver, batch, state.abandoned)
                state.in_flight.add_done_callback(lambda _future: self._batch_done.set())

    def _commit_finished(self) -> None:
        offsets: list[TopicPartition] = []
        for state in self.partitions.values():
            future = state.in_flight
            if future is None or not future.done():
                continue
            state.in_flight = None
            next_offset = self._result_offset(state, future)
            if next_offset is not None:
                state.committed = next_offset
                offsets.append(TopicPartition(state.topic, state.partition, next_offset))
        if offsets:
            self.consumer.commit(offsets=offsets, asynchronous=True)

    def _result_offset(self, state: _Partition, future: Future[int]) -> int | None:
        try:
            return future.result()
        except _Abandoned:
            return None
        except Exception:
            # A fault of the poller itself (not of the function): keep the partition's records
            # and try again from the committed offset rather than skipping anything.
            logger.exception("batch delivery failed", extra={"esm": self.mapping.name, "partition": state.key})
            self._rewind(state)
            return None

    def _rewind(self, state: _Partition) -> None:
        state.buffer.clear()
        state.buffered_since = None
        if state.committed >= 0:
            self.consumer.seek(TopicPartition(state.topic, state.partition, state.committed))

    def _apply_backpressure(self) -> None:
        limit = max(MAX_BUFFERED_PER_PARTITION, self.mapping.batch_size * 2)
        for state in self.partitions.values():
            full = len(state.buffer) >= limit
            if full != state.paused:
                partition = [TopicPartition(state.topic, state.partition)]
                self.consumer.pause(partition) if full else self.consumer.resume(partition)
                state.paused = full

    # ------------------------------------------------------------------ rebalances

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        committed = consumer.committed(partitions, timeout=10)
        fresh = [tp for tp in committed if tp.offset < 0]
        if fresh and self.mapping.starting_position != "TRIM_HORIZON":
            committed = self._pin_starting_positions(consumer, committed, fresh)
        for tp in committed:
            self.partitions[(tp.topic, tp.partition)] = _Partition(
                tp.topic, tp.partition, committed=tp.offset if tp.offset >= 0 else -1)
        logger.info("partitions assigned", extra={"esm": self.mapping.name,
                                                  "partitions": sorted(tp.partition for tp in partitions)})

    def _pin_starting_positions(self, consumer: Consumer, committed: list[TopicPartition],
                                fresh: list[TopicPartition]) -> list[TopicPartition]:
        """Resolve LATEST / AT_TIMESTAMP once for partitions the group has never committed, and commit
        that position: like an ESM created at that moment, a restart resumes there and misses nothing."""
        starts = {(tp.topic, tp.partition): consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1]
                  for tp in fresh}
        if self.mapping.starting_position == "AT_TIMESTAMP":
            timestamp_ms = int((self.mapping.starting_position_timestamp or 0) * 1000)
            wanted = [TopicPartition(tp.topic, tp.partition, timestamp_ms) for tp in fresh]
            for found in consumer.offsets_for_times(wanted, timeout=10):
                if found.offset >= 0:  # -1: no record at or after the timestamp yet, so start at the end
                    starts[(found.topic, found.partition)] = found.offset
        pinned = [TopicPartition(t, p, o) for (t, p), o in starts.items()]
        consumer.commit(offsets=pinned, asynchronous=False)
        positions = [TopicPartition(tp.topic, tp.partition, starts.get((tp.topic, tp.partition), tp.offset))
                     for tp in committed]
        consumer.assign(positions)
        return positions

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = [self.partitions[key] for key in ((tp.topic, tp.partition) for tp in partitions)
                   if key in self.partitions]
        for state in revoked:
            state.abandoned.set()
        self._finish_in_flight(revoked)
        for state in revoked:
            self.partitions.pop((state.topic, state.partition), None)
        logger.info("partitions revoked", extra={"esm": self.mapping.name,
                                                 "partitions": sorted(tp.partition for tp in partitions)})

    def _finish_in_flight(self, states: list[_Partition]) -> None:
        """Let running invocations end, then commit what they completed before giving partitions up."""
        offsets = []
        for state in states:
            if state.in_flight is None:
                continue
            next_offset = self._result_offset(state, state.in_flight)
            state.in_flight = None
            if next_offset is not None:
                offsets.append(TopicPartition(state.topic, state.partition, next_offset))
        if offsets:
            with contextlib.suppress(KafkaException):
                self.consumer.commit(offsets=offsets, asynchronous=False)

    # ------------------------------------------------------------------ failure destination

    def _send_to_destination(self, records: list[KafkaRecord], condition: str, invoke_count: int,
                             function_error: str | None) -> None:
        topic = self.mapping.on_failure_topic
        if topic is None:
            logger.error("records dropped", extra={"esm": self.mapping.name, "condition": condition,
                                                   "offsets": [r.offset for r in records]})
            return
        if self.producer is None:
            self.producer = Producer({"bootstrap.servers": self.options.bootstrap_servers, "acks": "all",
                                      "linger.ms": 5})
        now_ms = int(time.time() * 1000)
        for record in records:
            document = failure_record(
                record, condition=condition, function_arn=self.mapping.function.arn, invoke_count=invoke_count,
                function_error=function_error, event_source_arn=self.mapping.event_source_arn,
                event_source=self.mapping.event_source, bootstrap_servers=self.options.bootstrap_servers,
                now_ms=now_ms)
            self.producer.produce(topic, value=document, key=record.key)
        # The offsets are committed only once the destination holds the records.
        if self.producer.flush(30) > 0:
            raise RuntimeError(f"could not write failed records to {topic}")

    # ------------------------------------------------------------------ status

    def _report_stats(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_report < STATS_INTERVAL_S:
            return
        self._last_report = now
        partitions = {}
        for state in self.partitions.values():
            low = 0
            with contextlib.suppress(KafkaException):
                low, state.high_watermark = self.consumer.get_watermark_offsets(
                    TopicPartition(state.topic, state.partition), cached=True)
            # The broker's high watermark can be wrong (Tansu under-reports it for multi-record
            # batches), so the end of the log is at least one past the newest offset we have seen.
            end = max(state.high_watermark, state.seen + 1)
            start = state.committed if state.committed >= 0 else max(low, 0)
            partitions[state.key] = {"committed": state.committed, "seen": state.seen, "end": end,
                                     "lag": max(0, end - start)}
        self.report({"esm": self.mapping.name, "function": self.mapping.function.function_name,
                     "partitions": partitions, **self.stats.drain()})
