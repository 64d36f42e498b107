"""An open-loop HTTP load generator, as wrk2: requests go out at a fixed rate whatever the server's
pace, and each latency runs from the request's INTENDED send time to the end of its response, so a
server that falls behind shows its queue in the latencies instead of slowing the clients down
(closed-loop clients wait for each answer, send less, and hide the queue: coordinated omission).

    result = run_open_loop("http://127.0.0.1:3000", requests, rate=1000.0, processes=2)
    result.achieved_rps(), result.percentile_ms(0.99)

`requests` are prepared before the clock starts (building them costs nothing during the run); request
i is due at `start + i / rate`. With `processes` > 1, process k sends requests k, k + n, k + 2n, ... on
the same schedule (one shared monotonic start: CLOCK_MONOTONIC is system-wide), so the offered rate is
exact however it is split. Each process is one asyncio loop with at most `connections / processes`
keep-alive connections, one request on a connection at a time (no pipelining, as wrk2); a request
waiting for a free connection is queued client-side, and that wait is in its latency too.

The generator shares the machine with the server it measures, so its own CPU per request is kept
small: requests are encoded to bytes before the clock starts and responses are parsed by httptools
(llhttp, the parser Node.js uses) on plain asyncio protocols. An aiohttp client cost about as much
CPU per request as the gateway it loaded (`make bench` prints both), which took cores from the
server and capped the rates it could be offered.

What the generator could not do is counted, not hidden: `late_sends` (sends that started more than
LATE_SEND_S after their intended time: the generator's own CPU was the limit, so that rate was not
really offered; add processes), `backlog` (requests sent but not answered when the last one was sent:
the server's queue), and `unfinished` (no answer within `timeout_s`, counted as failures). The first
`warmup_s` of the schedule is sent but not recorded.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import signal
import time
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, cast
from urllib.parse import urlsplit

import httptools

from emulator import event_loop
from emulator.lifetime import die_with_parent

LATE_SEND_S = 0.005  # a send this far behind its intended time was not offered on time
DEFAULT_TIMEOUT_S = 30.0
START_DELAY_S = 0.3  # after every process is ready, so none starts behind
UNFINISHED = 0  # the status recorded for a request that got no answer (error or timeout)

# A response metric, computed in the sending process: (request, status, body) -> an int (e.g. items
# in a page). Must be a module-level function when processes > 1 (it is pickled).
Metric = Callable[["Request", int, bytes], int]


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with the query string; appended to the base URL
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    kind: str = "request"  # samples are reported per kind


@dataclass
class LoadResult:
    """Per recorded request (the schedule after the warm-up): its kind, status (0: no answer), latency
    from its intended send time, how late its send started, and the metric (0 without one)."""

    rate: float
    duration_s: float
    processes: int
    kinds: list[str] = field(default_factory=list)
    kind_index: array[int] = field(default_factory=lambda: array("H"))
    status: array[int] = field(default_factory=lambda: array("H"))
    latency_s: array[float] = field(default_factory=lambda: array("d"))
    send_lag_s: array[float] = field(default_factory=lambda: array("d"))
    metric: array[int] = field(default_factory=lambda: array("q"))
    last_completion_s: float = 0.0  # after the first recorded intended send time
    backlog: int = 0  # sent, unanswered when the last send went out (all processes)
    max_in_flight: int = 0  # the largest of any process

    @property
    def sent(self) -> int:
        return len(self.status)

    @property
    def late_sends(self) -> int:
        return sum(1 for lag in self.send_lag_s if lag > LATE_SEND_S)

    @property
    def unfinished(self) -> int:
        return sum(1 for status in self.status if status == UNFINISHED)

    def indices(self, kind: str | None = None, ok: Callable[[int], bool] | None = None) -> list[int]:
        wanted = None if kind is None else self.kinds.index(kind) if kind in self.kinds else -1
        return [i for i, status in enumerate(self.status)
                if (wanted is None or self.kind_index[i] == wanted) and (ok is None or ok(status))]

    def offered_rps(self) -> float:
        """What was really offered: the recorded sends that left on time, per second of schedule."""
        return (self.sent - self.late_sends) / self.duration_s if self.duration_s else 0.0

    def achieved_rps(self, ok: Callable[[int], bool] = lambda status: 200 <= status < 400) -> float:
        """Good answers per second, from the first intended send to the last answer: a server that
        falls behind answers its backlog late and achieves less than was offered."""
        span = max(self.duration_s, self.last_completion_s)
        return len(self.indices(ok=ok)) / span if span else 0.0

    def percentile_ms(self, fraction: float, kind: str | None = None,
                      ok: Callable[[int], bool] | None = None) -> float:
        """Latency from the intended send time. Unanswered requests count as infinitely late (a p99
        with more than 1 % unanswered is inf), unless `ok` filters them out."""
        chosen = self.indices(kind, ok)
        latencies = sorted(math.inf if self.status[i] == UNFINISHED else self.latency_s[i] for i in chosen)
        return percentile(latencies, fraction) * 1000

    def mean_metric(self, kind: str | None = None, ok: Callable[[int], bool] | None = None) -> float:
        chosen = self.indices(kind, ok)
        return sum(self.metric[i] for i in chosen) / len(chosen) if chosen else 0.0

    def count(self, kind: str | None = None, ok: Callable[[int], bool] | None = None) -> int:
        return len(self.indices(kind, ok))


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted samples (nan when there are none)."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


# ----------------------------------------------------------------------------------------------------
# Driving


def run_open_loop(base_url: str, requests: Sequence[Request], rate: float, *, warmup_s: float = 0.0,
                  processes: int = 1, connections: int = 256, timeout_s: float = DEFAULT_TIMEOUT_S,
                  metric: Metric | None = None) -> LoadResult:
    """Send `requests` at `rate` per second from `processes` worker processes; the first `warmup_s`
    seconds of them are not recorded. Blocks until every request is answered or timed out."""
    if rate <= 0 or not requests:
        raise ValueError("a positive rate and at least one request are needed")
    processes = max(1, min(processes, len(requests)))
    warm = min(len(requests), round(warmup_s * rate))
    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    workers = []
    per_process = max(1, connections // processes)
    for k in range(processes):
        parent, child = context.Pipe()
        mine = [(i, requests[i]) for i in range(k, len(requests), processes)]
        worker = context.Process(target=_worker_main, name=f"loadgen-{k}", daemon=True,
                                 args=(child, base_url, mine, rate, warm, per_process, timeout_s, metric,
                                       os.getpid()))
        worker.start()
        child.close()
        pipes.append(parent)
        workers.append(worker)
    try:
        for pipe in pipes:
            if pipe.recv() != "ready":
                raise RuntimeError("a load generator process failed to start")
        start = time.monotonic() + START_DELAY_S
        for pipe in pipes:
            pipe.send(start)
        parts: list[_Part] = [pipe.recv() for pipe in pipes]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    return _merge(parts, rate, (len(requests) - warm) / rate, processes)


@dataclass
class _Part:
    """One process's samples, in its own order; `slot` is the request's index in the schedule."""

    slot: array[int]
    kinds: list[str]
    kind_index: array[int]
    status: array[int]
    latency_s: array[float]
    send_lag_s: array[float]
    metric: array[int]
    last_completion_s: float
    backlog: int
    max_in_flight: int
    error: str | None = None


def _merge(parts: list[_Part], rate: float, duration_s: float, processes: int) -> LoadResult:
    failed = [part.error for part in parts if part.error]
    if failed:
        raise RuntimeError(f"a load generator process failed: {failed[0]}")
    result = LoadResult(rate=rate, duration_s=duration_s, processes=processes)
    rows = sorted((slot, part, i) for part in parts for i, slot in enumerate(part.slot))
    for _, part, i in rows:
        kind = part.kinds[part.kind_index[i]]
        if kind not in result.kinds:
            result.kinds.append(kind)
        result.kind_index.append(result.kinds.index(kind))
        result.status.append(part.status[i])
        result.latency_s.append(part.latency_s[i])
        result.send_lag_s.append(part.send_lag_s[i])
        result.metric.append(part.metric[i])
    result.last_completion_s = max((part.last_completion_s for part in parts), default=0.0)
    result.backlog = sum(part.backlog for part in parts)
    result.max_in_flight = max((part.max_in_flight for part in parts), default=0)
    return result


def _worker_main(conn: Connection, base_url: str, mine: list[tuple[int, Request]], rate: float, warm: int,
                 connections: int, timeout_s: float, metric: Metric | None, parent_pid: int) -> None:
    # A generator whose caller was killed has nobody to report to: it goes too, whatever it was doing.
    end_with_parent = die_with_parent(signal.SIGKILL, parent_pid)
    if end_with_parent is not None:
        end_with_parent()
    try:
        part = event_loop.run(_drive(conn, base_url, mine, rate, warm, connections, timeout_s, metric))
    except Exception as exc:  # reported to the parent, which raises it
        empty: Any = array("d")
        part = _Part(array("q"), [], array("H"), array("H"), empty, array("d"), array("q"), 0.0, 0, 0,
                     error=f"{type(exc).__name__}: {exc}")
    conn.send(part)
    conn.close()


async def _drive(conn: Connection, base_url: str, mine: list[tuple[int, Request]], rate: float, warm: int,
                 connections: int, timeout_s: float, metric: Metric | None) -> _Part:
    loop = asyncio.get_running_loop()
    kinds = list(dict.fromkeys(request.kind for _, request in mine))
    client = _Client(base_url, len(mine), connections, timeout_s, metric)
    wire = _encoder(client.host_header)
    encoded = [wire(request) for _, request in mine]
    conn.send("ready")
    start = await loop.run_in_executor(None, conn.recv)
    first_recorded = start + warm / rate
    watchdog = loop.create_task(client.expire_overdue())
    try:
        for position, (slot, request) in enumerate(mine):
            due = start + slot / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            client.send(position, request, encoded[position], due)
        backlog = client.in_flight
        await client.all_answered
    finally:
        watchdog.cancel()
        client.close()
    recorded = [position for position, (slot, _) in enumerate(mine) if slot >= warm]
    return _Part(
        slot=array("q", (mine[p][0] - warm for p in recorded)),
        kinds=kinds,
        kind_index=array("H", (kinds.index(mine[p][1].kind) for p in recorded)),
        status=array("H", (client.status[p] for p in recorded)),
        latency_s=array("d", (client.latency[p] for p in recorded)),
        send_lag_s=array("d", (client.lag[p] for p in recorded)),
        metric=array("q", (client.metrics[p] for p in recorded)),
        last_completion_s=max(0.0, client.last_completion - first_recorded),
        backlog=backlog, max_in_flight=client.max_in_flight)


def _encoder(host_header: str) -> Callable[[Request], bytes]:
    """Request -> its HTTP/1.1 bytes; a request object repeated in the schedule is encoded once."""
    cache: dict[int, bytes] = {}

    def encode(request: Request) -> bytes:
        known = cache.get(id(request))
        if known is None:
            body = request.body or b""
            lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host_header}",
                     *(f"{name}: {value}" for name, value in request.headers)]
            if body or request.method in ("POST", "PUT", "PATCH"):
                lines.append(f"Content-Length: {len(body)}")
            known = cache[id(request)] = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        return known

    return encode


@dataclass
class _Sending:
    """A request on its way: its place in the schedule and when it was due."""

    position: int
    request: Request
    wire: bytes
    due: float


class _Client:
    """One process's keep-alive connections and the samples of every request it sends. A request
    finishes once: answered (status and latency recorded) or failed (left UNFINISHED: refused or lost
    connection, unparsable response, no answer within `timeout_s` of its due time)."""

    def __init__(self, base_url: str, requests: int, connections: int, timeout_s: float,
                 metric: Metric | None) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"an http:// base URL is needed, not {base_url!r}")
        self.host, self.port = url.hostname, url.port or 80
        self.host_header = url.netloc
        self.metric = metric
        self.timeout_s = timeout_s
        self.limit = max(1, connections)
        self.status, self.lag = array("H", [UNFINISHED]) * requests, array("d", [0.0]) * requests
        self.latency, self.metrics = array("d", [math.inf]) * requests, array("q", [0]) * requests
        self.last_completion = -math.inf
        self.in_flight = self.max_in_flight = 0
        self._unfinished = requests
        self.all_answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if requests == 0:
            self.all_answered.set_result(None)
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._connecting = 0
        self._waiting: deque[_Sending] = deque()

    def send(self, position: int, request: Request, wire: bytes, due: float) -> None:
        self.lag[position] = time.monotonic() - due
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._dispatch(_Sending(position, request, wire, due))

    def answered(self, connection: _Connection, sending: _Sending, status: int, body: bytes) -> None:
        done = time.monotonic()
        position = sending.position
        self.status[position] = status
        self.latency[position] = done - sending.due
        self.last_completion = max(self.last_completion, done)
        if self.metric is not None:
            self.metrics[position] = self.metric(sending.request, status, body)
        self._finish()
        if connection.reusable:
            if self._waiting:
                connection.start(self._waiting.popleft())
            else:
                self._idle.append(connection)
        else:
            connection.close()

    def failed(self, sending: _Sending) -> None:
        self._finish()  # stays UNFINISHED

    def lost(self, connection: _Connection) -> None:
        self._open.discard(connection)
        if connection in self._idle:
            self._idle.remove(connection)
        self._open_for_waiting()

    async def expire_overdue(self) -> None:
        """Fail what waits past its timeout: queued requests, and requests on a connection (closing it)."""
        while True:
            await asyncio.sleep(min(1.0, self.timeout_s / 4))
            cutoff = time.monotonic() - self.timeout_s
            while self._waiting and self._waiting[0].due < cutoff:
                self.failed(self._waiting.popleft())
            for connection in list(self._open):
                if connection.sending is not None and connection.sending.due < cutoff:
                    connection.abort()

    def close(self) -> None:
        for connection in list(self._open):
            connection.close()

    def _dispatch(self, sending: _Sending) -> None:
        if self._idle:
            self._idle.pop().start(sending)
            return
        self._waiting.append(sending)
        self._open_for_waiting()

    def _open_for_waiting(self) -> None:
        while len(self._open) + self._connecting < self.limit and len(self._waiting) > self._connecting:
            self._connecting += 1
            asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(lambda: _Connection(self), self.host, self.port)
        except OSError:
            self._connecting -= 1
            if self._waiting:  # the server is not there: the request that waited longest fails
                self.failed(self._waiting.popleft())
            self._open_for_waiting()
            return
        self._connecting -= 1
        self._open.add(connection)
        if self._waiting:
            connection.start(self._waiting.popleft())
        else:
            self._idle.append(connection)

    def _finish(self) -> None:
        self.in_flight -= 1
        self._unfinished -= 1
        if self._unfinished == 0 and not self.all_answered.done():
            self.all_answered.set_result(None)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: writes a request, feeds the answer to httptools, hands it back."""

    def __init__(self, client: _Client) -> None:
        self.client = client
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.sending: _Sending | None = None
        self.reusable = True
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass; it has write()

    def start(self, sending: _Sending) -> None:
        self.sending = sending
        cast(asyncio.Transport, self.transport).write(sending.wire)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.abort()

    # httptools' callbacks (it calls only the ones a protocol defines)
    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        sending, self.sending = self.sending, None
        body = b"".join(self._body) if len(self._body) != 1 else self._body[0]
        self._body.clear()
        self.reusable = self.parser.should_keep_alive()
        if sending is not None:
            self.client.answered(self, sending, self.parser.get_status_code(), body)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        sending, self.sending = self.sending, None
        if sending is not None:
            self.client.failed(sending)
        self.client.lost(self)
