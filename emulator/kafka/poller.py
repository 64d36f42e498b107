"""The poller of one Kafka event source mapping: consume, batch, invoke, retry, commit.

One poller process is one member of the mapping's consumer group. It keeps at most one batch in
flight per partition (ordering) and runs batches of different partitions in parallel, each on a
sandbox of the function. Offsets are committed only after a batch has succeeded, been filtered
out, or had its failed records written to the on-failure destination: at least once, never lost.

Records stay confluent-kafka `Message` objects until a sandbox needs them: the poller groups them by
partition a consume() call at a time and sends a batch as columns (`records.batch_columns`); the
sandbox builds the AWS event. Only the slow paths (filters, payload cap, failure destination) make
a `KafkaRecord` of each record.

Idle pollers sleep: when nothing has arrived for `hot_s`, the poller pauses its partitions (no fetch
requests at all) and wakes when nudged (`nudge_fd` readable: the runtime's `nudge(topics)`), or when a
look (every `look_interval_s`: one request for the partitions' end offsets) finds records, so records
from producers that do not nudge arrive within about LOOK_INTERVAL_S.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby
from logging import DEBUG
from typing import Any

from aws_lambda_powertools import Logger
from confluent_kafka import (
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from emulator.kafka.esm import MAX_PAYLOAD_BYTES, EventSourceMapping
from emulator.kafka.filters import RecordFilter
from emulator.kafka.records import KafkaRecord, batch_columns, failure_record, partition_key
from emulator.sandbox import FunctionPool, Invocation

logger = Logger(service="emulator-kafka")

RETRY_BACKOFF_START_S = 0.1
RETRY_BACKOFF_MAX_S = 5.0
IDLE_POLL_S = 0.1
FETCH_WAIT_MAX_MS = 25  # see _consumer_config
FETCH_QUEUE_BACKOFF_MS = 10  # see _consumer_config
BUSY_POLL_S = 0.01
SERVE_WHEN_FULL_S = 1.0
STALLED_S = 1.0  # a partition without a batch done for this long, and a full buffer, is paused
STATS_INTERVAL_S = 1.0
RECENT_ERRORS = 20  # failed invocations a report carries at most (the status page shows them)
ERROR_TRACE_LINES = 12
ASLEEP_STATS_INTERVAL_S = 10.0  # nothing changes while asleep; the status board drops a worker after 15 s
MAX_BUFFERED_PER_PARTITION = 20_000
# Batches of one partition sent to a sandbox in one message (each still one invocation, in order): at
# most this many, this many records, and about this much time of the function's (a sandbox serves one
# partition meanwhile; slow functions get one batch per message, as before).
PIPELINE_BATCHES = 8
PIPELINE_RECORDS = 2_000
PIPELINE_MS = 20.0
MIN_CONSUME_BATCH = 1000
MAX_PARTITION_TASKS = 256
# Sleeping when idle: fetch for HOT_S after the last record or nudge, then pause every partition.
HOT_S = 1.0
# A sleeping poller looks this often (records from producers that do not nudge). 2 s, not 1: with 20
# mappings, looks every second kept an idle `make up` at 3.2 % of a core (target <= 3 %); now 2.3 %.
LOOK_INTERVAL_S = 2.0
LOOK_WINDOW_S = 0.06  # after a late nudge: over two fetch.wait.max.ms, so a fetch that starts after it completes
ASLEEP_SERVICE_S = 1.0  # a sleeping poller still serves the consumer (rebalances) this often
WAKE_QUERY_TIMEOUT_S = 2.0
EVENT_BUILDER = "emulator.kafka.records:event_from_batch"
# Seconds between the GIL's forced switches (CPython's default is 5 ms): the delivery threads block on
# sandbox pipes, and a finished invocation should not wait up to 5 ms for the main thread's GIL.
SWITCH_INTERVAL_S = 0.0005
# The garbage collector's first threshold (CPython: 700 new container objects). Every consumed record is
# a Message object the collector tracks, and buffers hold tens of thousands of them: at the default,
# collections (full ones traverse every buffered Message) took a third of the poller's main thread.
GC_THRESHOLD = (100_000, 50, 100)


# Room per record for JSON framing, a key and headers, in the cheap payload bound.
_SMALL_RECORD_SLACK_BYTES = 2048
_partition_of = Message.partition
_error_of = Message.error


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
    hot_s: float = HOT_S
    look_interval_s: float = LOOK_INTERVAL_S
    warm_sandboxes: int = 0  # sandboxes started before joining the group (else on the first records)


@dataclass
class _Partition:
    topic: str
    partition: int
    # Messages as consume() returned them, one chunk per call: (wall-clock time fetched, messages).
    chunks: deque[tuple[float, list[Message]]] = field(default_factory=deque)
    buffered: int = 0
    buffered_since: float | None = None
    # The delivery task of this partition: it delivers a batch, then the next ones while they are ready.
    in_flight: Future[None] | None = None
    completed: int = -1  # one past the last offset of the latest batch done (to commit)
    progressed_at: float = 0.0  # monotonic time of the latest batch done or started
    committed: int = -1
    seen: int = -1
    high_watermark: int = -1
    paused: bool = False
    abandoned: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)  # the buffer: main loop vs delivery task

    @property
    def key(self) -> str:
        return partition_key(self.topic, self.partition)


def _error_summary(invocation: Invocation, messages: list[Message]) -> dict[str, Any]:
    error = invocation.error or {}
    return {"at": time.time(), "partition": messages[0].partition(), "first_offset": messages[0].offset(),
            "batch_size": len(messages), "outcome": invocation.outcome, "request_id": invocation.request_id,
            "errorType": error.get("errorType"), "errorMessage": str(error.get("errorMessage", ""))[:1000],
            "stackTrace": [str(line) for line in (error.get("stackTrace") or [])][-ERROR_TRACE_LINES:]}


@dataclass
class PollerStats:
    """Counters since the last report, plus per-partition offsets."""

    invocations: int = 0
    errors: int = 0
    records: int = 0
    filtered: int = 0
    to_destination: int = 0
    durations_ms: list[float] = field(default_factory=list)
    # Hops of a record's way, per batch: produce (record timestamp) -> fetched by the poller,
    # fetched -> the sandbox starts the handler, and the handler's own duration.
    produce_to_fetch_ms: list[float] = field(default_factory=list)
    fetch_to_invoke_ms: list[float] = field(default_factory=list)
    handler_ms: list[float] = field(default_factory=list)
    last_batch_at: float | None = None  # epoch seconds when the latest invocation ended
    # The latest failed invocations (at most RECENT_ERRORS a report), for the status page.
    recent_errors: list[dict[str, Any]] = field(default_factory=list)
    # The handler's embedded-format metrics, summed per name (Invocation.metrics).
    metrics: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_error(self, error: dict[str, Any]) -> None:
        """Keep a failed invocation's details (call with the lock held)."""
        self.recent_errors = [*self.recent_errors[-(RECENT_ERRORS - 1):], error]

    def drain(self) -> dict[str, Any]:
        with self.lock:
            snapshot = {
                "invocations": self.invocations, "errors": self.errors, "records": self.records,
                "filtered": self.filtered, "to_destination": self.to_destination,
                "durations_ms": self.durations_ms, "produce_to_fetch_ms": self.produce_to_fetch_ms,
                "fetch_to_invoke_ms": self.fetch_to_invoke_ms, "handler_ms": self.handler_ms,
                "last_batch_at": self.last_batch_at, "recent_errors": self.recent_errors,
                "metrics": self.metrics,
            }
            self.recent_errors = []
            self.metrics = {}
            self.invocations = self.errors = self.records = self.filtered = self.to_destination = 0
            self.durations_ms = []
            self.produce_to_fetch_ms = []
            self.fetch_to_invoke_ms = []
            self.handler_ms = []
        return snapshot


@dataclass
class _Batch:
    """One partition's batch on its way: all its records, and those to invoke the function with."""

    fetched_at: float  # epoch seconds when its first record was fetched
    messages: list[Message]
    matched: list[Message]

    @property
    def next_offset(self) -> int:
        last: int = self.messages[-1].offset()  # type: ignore[assignment]
        return last + 1


class BatchDelivery:
    """Delivers one partition's batches to the function with the mapping's error-handling rules."""

    def __init__(self, mapping: EventSourceMapping, pool: FunctionPool, record_filter: RecordFilter,
                 send_to_destination: Callable[[list[KafkaRecord], str, int, str | None], None],
                 bootstrap_servers: str, stats: PollerStats) -> None:
        self.mapping = mapping
        self.pool = pool
        self.filter = record_filter
        self.send_to_destination = send_to_destination
        self.bootstrap_servers = bootstrap_servers
        self.stats = stats
        self.header = {"event_source": mapping.event_source, "event_source_arn": mapping.event_source_arn,
                       "bootstrap_servers": bootstrap_servers}
        self._average_ms = 0.0  # of recent invocations (moving average); until known, the most batches

    def pipeline_depth(self) -> int:
        """How many batches to send to a sandbox at once (see PIPELINE_MS)."""
        return max(1, min(PIPELINE_BATCHES, int(PIPELINE_MS / max(self._average_ms, 0.01))))

    def deliver(self, messages: list[Message], fetched_at: float, abandoned: threading.Event,
                small: bool = False) -> int:
        """Process one batch to completion; returns the offset to commit (last offset + 1)."""
        *_, next_offset = self.deliver_batches([(fetched_at, messages, small)], abandoned)
        return next_offset

    def deliver_batches(self, batches: list[tuple[float, list[Message], bool]],
                        abandoned: threading.Event) -> Iterator[int]:
        """Process a partition's consecutive batches, in order, each to completion; yields the offset to
        commit (last offset + 1) as each is done.

        Each batch is one invocation, as alone; the batches that follow one another without a failure
        go to one sandbox in one message (`FunctionPool.invoke_many`). A batch that fails continues
        with the retry rules on its own, and the batches after it wait for it.

        `batches`: (when the first record was fetched, the records in offset order, whether the batch
        is known to be far below the payload cap)."""
        prepared = [self._prepare(fetched_at, messages, small) for fetched_at, messages, small in batches]
        index = 0
        while index < len(prepared):
            if not prepared[index].matched:  # all filtered out, too large or expired: done
                yield prepared[index].next_offset
                index += 1
                continue
            if abandoned.is_set():
                raise _Abandoned
            end = index
            while end < len(prepared) and prepared[end].matched:
                end += 1
            group = prepared[index:end]
            invocations = self.pool.invoke_many(
                [(self.header, batch_columns(batch.matched)) for batch in group], event_builder=EVENT_BUILDER,
                stop_on_reported_failures=self.mapping.report_batch_item_failures)
            for batch, invocation in zip(group, invocations, strict=False):
                self._record(invocation, batch.matched, batch.fetched_at)
            for batch, invocation in zip(group, invocations, strict=False):
                self._deliver_with_retries(batch.matched, batch.fetched_at, abandoned, first=invocation)
                yield batch.next_offset
            index += len(invocations)  # the sandbox stops after a failure: the rest go out again

    def _prepare(self, fetched_at: float, messages: list[Message], small: bool) -> _Batch:
        """Filters, the payload cap and the record age, once per batch."""
        first_timestamp = messages[0].timestamp()[1]
        if first_timestamp > 0:
            with self.stats.lock:
                self.stats.produce_to_fetch_ms.append(max(0.0, fetched_at * 1000 - first_timestamp))
        matched = messages
        if not self.filter.matches_everything:
            records = KafkaRecord.from_messages(messages)
            matched = [message for message, record in zip(messages, records, strict=True)
                       if self.filter.matches(record.value, record.metadata())]
            with self.stats.lock:
                self.stats.filtered += len(messages) - len(matched)
        # Only a record near the limit by itself can exceed it; looking at each size costs time.
        if matched and not small and max(map(len, matched)) > MAX_PAYLOAD_BYTES // 2:
            sizes = [record.payload_size for record in KafkaRecord.from_messages(matched)]
            oversize = [message for message, size in zip(matched, sizes, strict=True) if size > MAX_PAYLOAD_BYTES]
            if oversize:
                self._give_up(oversize, "MaximumPayloadSizeExceeded", 0, None)
                matched = [message for message, size in zip(matched, sizes, strict=True)
                           if size <= MAX_PAYLOAD_BYTES]
        if matched:
            matched = self._drop_expired(matched, 0)
        return _Batch(fetched_at, messages, matched)

    def _deliver_with_retries(self, pending: list[Message], fetched_at: float, abandoned: threading.Event,
                              first: Invocation | None = None) -> None:
        """`first`: the outcome of the first attempt, when it was made already."""
        retries = 0
        invocation = first
        while pending:
            if invocation is None:
                pending = self._drop_expired(pending, retries)
                if not pending:
                    return
                invocation = self._invoke(pending, fetched_at)
            failed_from, reported = self._first_failure(invocation, pending)
            if failed_from is None:
                return
            if failed_from == 0 and not reported and self.mapping.bisect_batch_on_error and len(pending) > 1:
                half = len(pending) // 2
                self._deliver_with_retries(pending[:half], fetched_at, abandoned)
                self._deliver_with_retries(pending[half:], fetched_at, abandoned)
                return
            pending = pending[failed_from:]
            retries += 1
            limit = self.mapping.retry_limit
            if limit >= 0 and retries > limit:
                # With a partial batch response, only the records the function reported failed are lost.
                failed = [m for m in pending if m.offset() in reported] if reported else pending
                self._give_up(failed, "RetriesExhausted", retries, invocation.function_error or "Unhandled")
                return
            invocation = None
            backoff = min(RETRY_BACKOFF_MAX_S, RETRY_BACKOFF_START_S * 2 ** (retries - 1))
            if abandoned.wait(backoff):
                raise _Abandoned

    def _invoke(self, messages: list[Message], fetched_at: float) -> Invocation:
        invocation = self.pool.invoke((self.header, batch_columns(messages)), event_builder=EVENT_BUILDER)
        self._record(invocation, messages, fetched_at)
        return invocation

    def _record(self, invocation: Invocation, messages: list[Message], fetched_at: float) -> None:
        self._average_ms += (invocation.duration_ms - self._average_ms) / 8
        stats = self.stats
        with stats.lock:
            stats.invocations += 1
            stats.last_batch_at = time.time()
            stats.durations_ms.append(invocation.duration_ms)
            if invocation.started_at is not None:
                stats.fetch_to_invoke_ms.append(max(0.0, (invocation.started_at - fetched_at) * 1000))
                stats.handler_ms.append(invocation.handler_ms or 0.0)
            for name, value in (invocation.metrics or {}).items():
                stats.metrics[name] = stats.metrics.get(name, 0.0) + value
            if invocation.ok:
                stats.records += len(messages)
            else:
                stats.errors += 1
                stats.add_error(_error_summary(invocation, messages))
        # One line per invocation costs more than a small batch itself: successes only at DEBUG.
        if not invocation.ok or logger.log_level <= DEBUG:
            log = logger.debug if invocation.ok else logger.warning
            log("invocation", extra={
                "function": self.mapping.function.function_name, "esm": self.mapping.name,
                "partition": messages[0].partition(), "first_offset": messages[0].offset(),
                "batch_size": len(messages), "duration_ms": round(invocation.duration_ms, 2),
                "outcome": invocation.outcome, "request_id": invocation.request_id, "error": invocation.error,
            })

    def _first_failure(self, invocation: Invocation, pending: list[Message]) -> tuple[int | None, set[int]]:
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
        index_by_offset = {message.offset(): index for index, message in enumerate(pending)}
        key = partition_key(self.mapping.topic, pending[0].partition() or 0)
        reported: set[int] = set()
        for failure in failures if isinstance(failures, list) else [failures]:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            offset = identifier.get("offset") if isinstance(identifier, dict) else None
            where = identifier.get("partition", identifier.get("topic-partition")) if identifier else None
            # An identifier that was not in the event fails the whole batch, as AWS does.
            if where != key or not _is_offset(offset) or int(offset) not in index_by_offset:  # type: ignore[arg-type]
                with self.stats.lock:
                    self.stats.errors += 1
                return 0, set()
            reported.add(int(offset))  # type: ignore[arg-type]
        with self.stats.lock:
            self.stats.errors += 1
        # Like a checkpoint: every record before the lowest failed one is done.
        return min(index_by_offset[offset] for offset in reported), reported

    def _drop_expired(self, pending: list[Message], retries: int) -> list[Message]:
        max_age = self.mapping.maximum_record_age_s
        if max_age < 0:
            return pending
        oldest_allowed = time.time() * 1000 - max_age * 1000
        expired = [m for m in pending if m.timestamp()[1] < oldest_allowed]
        if expired:
            self._give_up(expired, "RecordAgeExceeded", retries, "Unhandled" if retries else None)
        return [m for m in pending if m.timestamp()[1] >= oldest_allowed]

    def _give_up(self, messages: list[Message], condition: str, invocations: int, error: str | None) -> None:
        self.send_to_destination(KafkaRecord.from_messages(messages), condition, invocations, error)
        with self.stats.lock:
            self.stats.to_destination += len(messages)


def _is_offset(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and value.strip().lstrip("+-").isdigit()


class Poller:
    """One consumer-group member of a Kafka event source mapping."""

    def __init__(self, mapping: EventSourceMapping, options: PollerOptions,
                 report: Callable[[dict[str, Any]], None] | None = None, nudge_fd: int | None = None) -> None:
        self.mapping = mapping
        self.options = options
        self.report = report or (lambda _stats: None)
        self.stats = PollerStats()
        self.partitions: dict[tuple[str, int], _Partition] = {}
        self.stop_requested = threading.Event()
        self.pool = FunctionPool(mapping.function, region=options.region, extra_env=options.extra_env,
                                 max_workers=options.max_concurrency)
        # One delivery task per partition with records (threads start as needed); the pool's sandboxes
        # (`max_concurrency`) are what limits how many invoke at once.
        self.executor = ThreadPoolExecutor(max_workers=MAX_PARTITION_TASKS, thread_name_prefix=f"esm-{mapping.name}")
        self.consumer = Consumer(self._consumer_config())
        self.producer: Producer | None = None
        self.delivery = BatchDelivery(mapping, self.pool, RecordFilter.from_criteria(mapping.filter_criteria),
                                      self._send_to_destination, options.bootstrap_servers, self.stats)
        self._last_report = time.monotonic()
        self._batch_done = threading.Event()
        self._consume_size = max(mapping.batch_size, MIN_CONSUME_BATCH)
        # Records the poller buffers in all; one partition alone may hold half (a partition that stops,
        # say on a record that keeps failing, is paused there and leaves room for the others).
        self._partition_limit = max(MAX_BUFFERED_PER_PARTITION, mapping.batch_size * 2)
        self._buffer_limit = 2 * self._partition_limit
        self._last_served = time.monotonic()
        # Sleeping: `stop()` writes to our own pipe, the runtime's nudges arrive on `nudge_fd`.
        self._wake_read, self._wake_write = os.pipe()
        for fd in (self._wake_read, self._wake_write, *([] if nudge_fd is None else [nudge_fd])):
            os.set_blocking(fd, False)
        self._nudge_fd = nudge_fd
        self._hot_until = time.monotonic() + options.hot_s
        self._next_look = 0.0
        self.asleep = False
        self.looks = 0
        self.nudges = 0
        self.assigned_at: float | None = None
        self._leaders: dict[int, int] | None = None  # partition -> leader broker id (see _resume)

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
            # 10 ms), which every hop of a flow would add. Only while awake: a sleeping poller has its
            # partitions paused and sends no fetch at all.
            "fetch.wait.max.ms": FETCH_WAIT_MAX_MS,
            # librdkafka stops fetching a partition whose prefetched records exceed its queue limits and
            # looks again only after this long (default 1000 ms): a whole second without records,
            # although the queue empties in milliseconds at full speed.
            "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
        }

    # ------------------------------------------------------------------ lifecycle

    @staticmethod
    def tune_process() -> None:
        """Interpreter settings for a process that runs a poller (see SWITCH_INTERVAL_S, GC_THRESHOLD)."""
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        gc.set_threshold(*GC_THRESHOLD)
        gc.freeze()  # what start-up imported stays: later collections need not traverse it

    def run(self) -> None:
        if self.options.warm_sandboxes:
            self.pool.warm(self.options.warm_sandboxes)
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
        """Ask the loop to end (safe from a signal handler or another thread)."""
        self.stop_requested.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"s")

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
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    # ------------------------------------------------------------------ the loop

    def _poll_once(self) -> None:
        if self.asleep:
            messages = self._sleep()
        else:
            busy = any(state.in_flight is not None for state in self.partitions.values())
            if busy:
                # While batches run, fetch without blocking and sleep on the completion signal instead, so
                # a finished batch is committed and the partition's next one dispatched at once.
                messages = self._consume_within_limit()
                if not messages:
                    self._batch_done.wait(BUSY_POLL_S)
            else:
                messages = self._consume(self._idle_timeout())
            self._batch_done.clear()
        if messages:
            self._buffer(messages)
        self._commit_finished()
        self._dispatch_ready()
        self._apply_backpressure()
        self._fall_asleep_when_idle()
        self._report_stats()

    def _consume_within_limit(self) -> list[Message]:
        """Take what librdkafka has fetched, up to the poller's buffer limit. Past it, take nothing and
        let librdkafka's own queue fill and its fetching stop (no pause: pausing a partition drops what
        was prefetched for it); a record a second still serves the consumer's callbacks (rebalances)."""
        room = self._buffer_limit - sum(state.buffered for state in self.partitions.values())
        if room > 0:
            return self.consumer.consume(num_messages=min(self._consume_size, room), timeout=0)
        now = time.monotonic()
        if now - self._last_served < SERVE_WHEN_FULL_S:
            return []
        self._last_served = now
        return self.consumer.consume(num_messages=1, timeout=0)

    def _consume(self, timeout: float) -> list[Message]:
        """Wait up to `timeout` for the first record, then take what else is there without waiting.

        Not consume(n, timeout): librdkafka's batch consume waits for n records or the whole timeout,
        which held every record of a quiet topic for the full timeout (100 ms per hop)."""
        first = self.consumer.poll(timeout)
        if first is None:
            return []
        return [first, *self.consumer.consume(num_messages=self._consume_size - 1, timeout=0)]

    def _buffer(self, messages: list[Message]) -> None:
        """The hot path: records stay Messages, grouped per partition with C calls (consume() returns a
        partition's records together); the delivery thread takes them apart for the sandbox."""
        now = time.monotonic()
        fetched_at = time.time()
        self._hot_until = now + self.options.hot_s
        if any(map(_error_of, messages)):
            messages = self._without_errors(messages)
        partitions = self.partitions
        topic = self.mapping.topic
        for partition, group in groupby(messages, _partition_of):
            state = partitions.get((topic, partition))  # type: ignore[arg-type]
            if state is None:
                continue  # records fetched just before their partition was revoked
            chunk = list(group)
            with state.lock:
                if not state.buffered:
                    state.buffered_since = now
                state.chunks.append((fetched_at, chunk))
                state.buffered += len(chunk)
            state.seen = chunk[-1].offset() or 0

    def _without_errors(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            error = message.error()
            if error is not None and error.code() != KafkaError._PARTITION_EOF:
                logger.warning("consumer error", extra={"esm": self.mapping.name, "error": str(error)})
        return [message for message in messages if message.error() is None]

    def _idle_timeout(self) -> float:
        now = time.monotonic()
        window = self.mapping.batching_window_s
        waits = [window - (now - since) for since in (state.buffered_since for state in self.partitions.values())
                 if since is not None]
        return max(0.0, min([IDLE_POLL_S, self._hot_until - now, *waits]))

    def _batch_ready(self, state: _Partition) -> bool:
        if not state.buffered:
            return False
        if state.buffered >= self.mapping.batch_size:
            return True
        since = state.buffered_since
        return since is None or time.monotonic() - since >= self.mapping.batching_window_s

    def _take_batch(self, state: _Partition) -> tuple[float, list[Message], bool]:
        """The partition's next batch, when its first record was fetched, and whether it is far below
        the payload cap (hold `state.lock`)."""
        chunks = state.chunks
        fetched_at = chunks[0][0]
        wanted = self.mapping.batch_size
        batch: list[Message] = []
        while wanted and chunks:
            chunk_fetched_at, chunk = chunks[0]
            if len(chunk) <= wanted:
                chunks.popleft()
                batch += chunk
                wanted -= len(chunk)
            else:
                batch += chunk[:wanted]
                chunks[0] = (chunk_fetched_at, chunk[wanted:])
                wanted = 0
        count = len(batch)
        # Keep the invocation under Lambda's 6 MB payload (values and keys are base64 in the event).
        # A cheap bound on the values (len() of a message is its value's length) settles most batches.
        small = sum(map(len, batch)) * 4 // 3 + count * _SMALL_RECORD_SLACK_BYTES <= MAX_PAYLOAD_BYTES
        if not small:
            payload = 0
            for index, message in enumerate(batch):
                payload += _payload_estimate(message)
                if payload > MAX_PAYLOAD_BYTES and index > 0:
                    chunks.appendleft((fetched_at, batch[index:]))
                    batch = batch[:index]
                    break
        state.buffered -= len(batch)
        state.buffered_since = time.monotonic() if state.buffered else None
        return fetched_at, batch, small

    def _dispatch_ready(self) -> None:
        for state in self.partitions.values():
            if state.in_flight is None and self._batch_ready(state):
                with state.lock:
                    batch = self._take_batch(state)
                state.in_flight = self.executor.submit(self._deliver_partition, state, batch)
                state.in_flight.add_done_callback(self._on_batch_done)

    def _deliver_partition(self, state: _Partition, batch: tuple[float, list[Message], bool]) -> None:
        """A partition's delivery task: its batches in order, one at a time. The batches that are ready
        go out together (see BatchDelivery.deliver_batches), and the following ones from here at once,
        without a round trip through the main loop (which commits `state.completed` as they finish)."""
        batches = [batch]
        while True:
            state.progressed_at = time.monotonic()
            for next_offset in self.delivery.deliver_batches(batches, state.abandoned):
                state.completed = next_offset
                state.progressed_at = time.monotonic()
            if state.abandoned.is_set() or self.stop_requested.is_set():
                return
            with state.lock:
                batches = self._take_ready_batches(state, self.delivery.pipeline_depth())
            if not batches:
                return

    def _take_ready_batches(self, state: _Partition, most: int) -> list[tuple[float, list[Message], bool]]:
        """Up to `most` batches that are ready, within PIPELINE_RECORDS records (hold `state.lock`)."""
        batches: list[tuple[float, list[Message], bool]] = []
        records = 0
        while len(batches) < most and records < PIPELINE_RECORDS and self._batch_ready(state):
            batch = self._take_batch(state)
            batches.append(batch)
            records += len(batch[1])
            if not batch[2]:
                break  # a large batch goes alone
        return batches

    def _on_batch_done(self, _future: Future[None]) -> None:
        self._batch_done.set()

    def _commit_finished(self) -> None:
        offsets: list[TopicPartition] = []
        for state in self.partitions.values():
            future = state.in_flight
            ended = future is not None and future.done()
            if state.completed > state.committed:
                state.committed = state.completed
                offsets.append(TopicPartition(state.topic, state.partition, state.committed))
            if ended:
                state.in_flight = None
                self._check_result(state, future)  # type: ignore[arg-type]
        if offsets:
            self.consumer.commit(offsets=offsets, asynchronous=True)

    def _check_result(self, state: _Partition, future: Future[None]) -> None:
        try:
            future.result()
        except _Abandoned:
            pass
        except Exception:
            # A fault of the poller itself (not of the function): keep the partition's records
            # and try again from the last completed offset rather than skipping anything.
            logger.exception("batch delivery failed", extra={"esm": self.mapping.name, "partition": state.key})
            self._rewind(state)

    def _rewind(self, state: _Partition) -> None:
        with state.lock:
            state.chunks.clear()
            state.buffered = 0
            state.buffered_since = None
        position = max(state.committed, state.completed)
        if position >= 0:
            self.consumer.seek(TopicPartition(state.topic, state.partition, position))

    def _apply_backpressure(self) -> None:
        """Pause a partition that holds its share of the buffer without making progress (a batch that
        keeps failing), so the others go on; resume it once half of that is done. Partitions that flow
        are held back by `_consume_within_limit` instead: pausing drops what librdkafka prefetched."""
        limit = self._partition_limit
        stalled_since = time.monotonic() - STALLED_S
        pause, resume = [], []
        for state in self.partitions.values():
            if not state.paused and state.buffered >= limit and state.progressed_at < stalled_since:
                state.paused = True
                pause.append(TopicPartition(state.topic, state.partition))
            elif state.paused and state.buffered <= limit // 2:
                state.paused = False
                resume.append(TopicPartition(state.topic, state.partition))
        if pause:
            self.consumer.pause(pause)
        if resume:
            self._resume(resume)

    # ------------------------------------------------------------------ sleeping when idle

    def _fall_asleep_when_idle(self) -> None:
        """Pause every partition once nothing has arrived for `hot_s` and nothing is left to do."""
        if self.asleep or not self.partitions or time.monotonic() < self._hot_until:
            return
        if any(state.buffered or state.in_flight is not None for state in self.partitions.values()):
            return
        if self._drain(self._nudge_fd):
            # Records were produced before this nudge: fetch once more (a fetch that starts now sees them).
            self._hot_until = time.monotonic() + LOOK_WINDOW_S
            return
        self.consumer.pause(self._assigned())
        self.asleep = True
        self._next_look = time.monotonic() + self.options.look_interval_s
        self._last_report = 0.0  # the status shows it at once

    def _sleep(self) -> list[Message]:
        """Wait for a nudge, the next look or a stop; serve the consumer (rebalance callbacks) meanwhile."""
        timeout = min(self._next_look - time.monotonic(), ASLEEP_SERVICE_S)
        nudged = False
        if timeout > 0:
            fds = [self._wake_read] if self._nudge_fd is None else [self._wake_read, self._nudge_fd]
            with contextlib.suppress(InterruptedError):
                readable, _, _ = select.select(fds, [], [], timeout)
                self._drain(self._wake_read)
                nudged = self._nudge_fd in readable and self._drain(self._nudge_fd)
        if nudged:
            self.nudges += 1
            self._wake(self.options.hot_s)
        elif time.monotonic() >= self._next_look:
            self.looks += 1
            if self._has_new_records():
                self._wake(self.options.hot_s)
            else:
                self._next_look = time.monotonic() + self.options.look_interval_s
        return self.consumer.consume(num_messages=self._consume_size, timeout=0)

    def _has_new_records(self) -> bool:
        """A look: whether a partition's log goes past what this poller took, from one request for the
        end offsets of all its partitions (a fetch per look cost Tansu ten times more: it works while
        it holds a fetch). Tansu under-reports the end of a batch of several records (the batch's first
        offset + 1), which is still past what was taken whenever a batch came after it."""
        ends = [TopicPartition(state.topic, state.partition, OFFSET_END) for state in self.partitions.values()]
        if not ends:
            return False
        try:
            found = self.consumer.offsets_for_times(ends, timeout=WAKE_QUERY_TIMEOUT_S)
        except KafkaException:
            return True  # cannot tell: fetch
        for end in found:
            state = self.partitions.get((end.topic, end.partition))
            if end.error is not None:
                return True
            if state is not None and end.offset > max(state.seen + 1, state.committed, 0):
                return True
        return False

    def _wake(self, hot_s: float) -> None:
        self._resume(self._assigned())
        self.asleep = False
        self._hot_until = time.monotonic() + hot_s

    def _resume(self, partitions: list[TopicPartition]) -> None:
        """Resume fetching now. librdkafka fetches a resumed partition only when the broker thread of its
        leader next wakes by itself (0.5 to 1 s later, measured; a seek to the position woke it only
        sometimes), so wake it with a request to that broker: a watermark query of one partition per
        leader (with one broker, one query: two ListOffsets requests)."""
        if not partitions:
            return
        self.consumer.resume(partitions)
        for partition in self._one_partition_per_leader(partitions):
            with contextlib.suppress(KafkaException):
                self.consumer.get_watermark_offsets(partition, timeout=WAKE_QUERY_TIMEOUT_S, cached=False)

    def _one_partition_per_leader(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        leaders = self._leaders
        if leaders is None or any(tp.partition not in leaders for tp in partitions):
            try:
                metadata = self.consumer.list_topics(self.mapping.topic, timeout=WAKE_QUERY_TIMEOUT_S)
                leaders = {p: info.leader for p, info in metadata.topics[self.mapping.topic].partitions.items()}
            except (KafkaException, KeyError):
                return partitions[:1]
            self._leaders = leaders
        chosen: dict[int, TopicPartition] = {}
        for tp in partitions:
            chosen.setdefault(leaders.get(tp.partition, -1), tp)
        return list(chosen.values())

    def _assigned(self) -> list[TopicPartition]:
        return [TopicPartition(state.topic, state.partition) for state in self.partitions.values()]

    @staticmethod
    def _drain(fd: int | None) -> bool:
        """Empty a non-blocking pipe; True if it held anything."""
        if fd is None:
            return False
        got = False
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while os.read(fd, 4096):
                got = True
        return got

    # ------------------------------------------------------------------ rebalances

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        committed = consumer.committed(partitions, timeout=10)
        fresh = [tp for tp in committed if tp.offset < 0]
        if fresh and self.mapping.starting_position != "TRIM_HORIZON":
            committed = self._pin_starting_positions(consumer, committed, fresh)
        for tp in committed:
            self.partitions[(tp.topic, tp.partition)] = _Partition(
                tp.topic, tp.partition, committed=tp.offset if tp.offset >= 0 else -1)
        # New partitions are fetched (not paused): be awake for them.
        self.asleep = False
        self._hot_until = time.monotonic() + self.options.hot_s
        self.assigned_at = time.time()
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
            if state.in_flight is not None:
                try:
                    state.in_flight.result()
                except _Abandoned:
                    pass
                except Exception:
                    logger.exception("batch delivery failed", extra={"esm": self.mapping.name,
                                                                     "partition": state.key})
                state.in_flight = None
            if state.completed > state.committed:
                state.committed = state.completed
                offsets.append(TopicPartition(state.topic, state.partition, state.completed))
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
        interval = ASLEEP_STATS_INTERVAL_S if self.asleep else STATS_INTERVAL_S
        if not force and now - self._last_report < interval:
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
                     "partitions": partitions, "asleep": self.asleep, "looks": self.looks,
                     "nudges": self.nudges, "assigned_at": self.assigned_at, **self.stats.drain()})
