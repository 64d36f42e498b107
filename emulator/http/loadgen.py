"""An open-loop HTTP load generator, as wrk2: requests go out at a fixed rate whatever the server's
pace, and each latency runs from the request's INTENDED send time to the end of its response, so a
server that falls behind shows its queue in the latencies instead of slowing the clients down
(closed-loop clients wait for each answer, send less, and hide the queue: coordinated omission).

    result = run_open_loop("http://127.0.0.1:3000", requests, rate=1000.0, processes=2)
    result.achieved_rps(), result.percentile_ms(0.99)

`requests` are prepared before the clock starts (building them costs nothing during the run); request
i is due at `start + i / rate`. With `processes` > 1, process k sends requests k, k + n, k + 2n, ... on
the same schedule (one shared monotonic start: CLOCK_MONOTONIC is system-wide), so the offered rate is
exact however it is split. Each process is one asyncio loop with one aiohttp session of at most
`connections / processes` keep-alive connections; a request waiting for a free connection is queued
client-side, and that wait is in its latency too.

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
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from emulator import event_loop

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
                                 args=(child, base_url, mine, rate, warm, per_process, timeout_s, metric))
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
                 connections: int, timeout_s: float, metric: Metric | None) -> None:
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
    import aiohttp

    loop = asyncio.get_running_loop()
    kinds = list(dict.fromkeys(request.kind for _, request in mine))
    n = len(mine)
    status, lag = array("H", [UNFINISHED]) * n, array("d", [0.0]) * n
    latency, metrics = array("d", [math.inf]) * n, array("q", [0]) * n
    last_completion = -math.inf
    in_flight = max_in_flight = 0
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=0, enable_cleanup_closed=False)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(base_url, connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     auto_decompress=False, timeout=timeout) as session:
        conn.send("ready")
        start = await loop.run_in_executor(None, conn.recv)
        first_recorded = start + warm / rate

        # time.monotonic(), never loop.time(): uvloop's is whole milliseconds, read once per loop turn,
        # which would take up to a millisecond or more off each latency.
        async def send(position: int, request: Request, due: float) -> None:
            nonlocal in_flight, last_completion
            lag[position] = time.monotonic() - due
            try:
                async with session.request(request.method, request.path, headers=request.headers,
                                           data=request.body) as response:
                    body = await response.read()
                    answered = response.status
                done = time.monotonic()
                status[position] = answered
                latency[position] = done - due
                last_completion = max(last_completion, done)
                if metric is not None:
                    metrics[position] = metric(request, answered, body)
            except (TimeoutError, aiohttp.ClientError, OSError):
                pass  # stays UNFINISHED
            finally:
                in_flight -= 1

        tasks = []
        for position, (slot, request) in enumerate(mine):
            due = start + slot / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
            tasks.append(loop.create_task(send(position, request, due)))
        backlog = in_flight
        await asyncio.gather(*tasks)
    recorded = [position for position, (slot, _) in enumerate(mine) if slot >= warm]
    return _Part(
        slot=array("q", (mine[p][0] - warm for p in recorded)),
        kinds=kinds,
        kind_index=array("H", (kinds.index(mine[p][1].kind) for p in recorded)),
        status=array("H", (status[p] for p in recorded)),
        latency_s=array("d", (latency[p] for p in recorded)),
        send_lag_s=array("d", (lag[p] for p in recorded)),
        metric=array("q", (metrics[p] for p in recorded)),
        last_completion_s=max(0.0, last_completion - first_recorded),
        backlog=backlog, max_in_flight=max_in_flight)
