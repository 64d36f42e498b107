"""The open-loop load generator (emulator.http.loadgen) against the API behind the gateway: the whole
schedule is sent, split over processes, every answer is counted with its latency from the intended
send time, and what was not answered counts as a failure, not as a fast request."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time

from aiohttp import web

from emulator.http.loadgen import UNFINISHED, Request, percentile, run_open_loop
from kafkagram_local.bench import child_processes, cmdline
from tests.support.leftovers import alive
from tests.support.served import ServedApp
from tests.support.services import free_port
from tests.support.waiting import wait_for


def _posts(request: Request, status: int, body: bytes) -> int:
    return len(body) if status == 401 else -1


def test_the_schedule_is_sent_split_over_processes_and_every_answer_counted(gateway):
    requests = [Request("GET", "/api/timeline", kind="401"), Request("GET", "/api/docs", kind="docs")] * 30
    result = run_open_loop(f"http://127.0.0.1:{gateway.port}", requests, rate=100.0, warmup_s=0.2, processes=2,
                           metric=_posts)
    assert result.sent == 40 and result.duration_s == 0.4  # 60 sent, the first 20 (0.2 s) not recorded
    assert result.count("401", ok=lambda status: status == 401) == 20
    assert result.count("docs", ok=lambda status: status == 200) == 20
    assert result.unfinished == 0 and result.late_sends + result.offered_rps() * 0.4 == 40
    # Finite: every request answered (the first ones may wait for a second sandbox to start).
    assert 0 < result.percentile_ms(0.5, "401") <= result.percentile_ms(0.99, "401") < math.inf
    assert result.mean_metric("401") > 0 and result.mean_metric("docs") == -1  # computed in the senders
    assert 0 < result.achieved_rps(lambda status: status in (200, 401)) <= 100.0


def test_requests_nobody_answers_are_failures_that_count_as_infinitely_late():
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_open_loop(dead, [Request("GET", "/")] * 5, rate=50.0, timeout_s=2.0)
    assert result.sent == 5 and result.unfinished == 5 and set(result.status) == {UNFINISHED}
    assert result.achieved_rps() == 0 and math.isinf(result.percentile_ms(0.99))


class _App:
    def build_app(self) -> web.Application:
        async def answer(_request: web.Request) -> web.Response:
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_get("/", answer)
        return app


def _clock_us(request: Request, status: int, body: bytes) -> int:
    """Called by the sender just after it took the response's end time: the clock then, in µs."""
    return int(time.monotonic() * 1e6)


def test_latencies_are_taken_with_a_precise_clock():
    # The generator runs on uvloop, whose loop.time() is whole milliseconds read once per loop turn:
    # latencies taken with it came out short by up to a millisecond, and by a different amount each.
    # Request i's end time is due_i + latency_i, with due_i = start + i / rate; the clock read just
    # after it must be later by the same few microseconds for every request (the middle half of them:
    # a sender preempted between the two reads is not what this is about).
    served = ServedApp(_App())
    served.start()
    rate = 200.0
    try:
        result = run_open_loop(f"http://127.0.0.1:{served.port}", [Request("GET", "/")] * 60, rate=rate,
                               metric=_clock_us)
    finally:
        served.stop()
    assert result.count(ok=lambda status: status == 200) == 60
    starts = sorted(result.metric[i] / 1e6 - result.latency_s[i] - i / rate for i in range(60))
    assert starts[45] - starts[15] < 0.0002


class _Framings:
    """Answers framed each way HTTP/1.1 allows, and one that never comes."""

    def __init__(self) -> None:
        self.unanswered = 0  # requests /never holds

    def build_app(self) -> web.Application:
        async def sized(_request: web.Request) -> web.Response:
            return web.Response(body=b"s" * 70_000)  # more than one read

        async def chunked(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(status=201)
            response.enable_chunked_encoding()
            await response.prepare(request)
            for _ in range(3):
                await response.write(b"c" * 1000)
            await response.write_eof()
            return response

        async def closing(_request: web.Request) -> web.Response:
            return web.Response(status=202, body=b"bye", headers={"Connection": "close"})

        stopping = asyncio.Event()

        async def never(_request: web.Request) -> web.Response:  # answers only once the server stops
            self.unanswered += 1
            await stopping.wait()
            return web.Response(status=503)

        async def stop_waiting(_app: web.Application) -> None:
            stopping.set()

        app = web.Application()
        app.on_shutdown.append(stop_waiting)
        for path, answer in (("/sized", sized), ("/chunked", chunked), ("/closing", closing), ("/never", never)):
            app.router.add_get(path, answer)
        return app


def _body_length(request: Request, status: int, body: bytes) -> int:
    return len(body)


def test_answers_are_read_whole_however_framed_and_unanswered_ones_time_out():
    served = ServedApp(_Framings())
    served.start()
    kinds = ("sized", "chunked", "closing", "never")
    requests = [Request("GET", f"/{kind}", kind=kind) for kind in kinds] * 10
    try:
        began = time.monotonic()
        result = run_open_loop(f"http://127.0.0.1:{served.port}", requests, rate=200.0, connections=16,
                               timeout_s=1.0, metric=_body_length)
        took = time.monotonic() - began
    finally:
        served.stop()
    # Content-Length bodies past one read, chunked bodies, and answers that close the connection (the
    # next request opens a new one) all arrive whole; the ones never answered fail after the timeout,
    # without holding up the run or the other requests (16 connections: the 10 never answered hold 10).
    assert result.count("sized", ok=lambda status: status == 200) == 10 and result.mean_metric("sized") == 70_000
    assert result.count("chunked", ok=lambda status: status == 201) == 10 and result.mean_metric("chunked") == 3000
    assert result.count("closing", ok=lambda status: status == 202) == 10 and result.mean_metric("closing") == 3
    assert result.count("never", ok=lambda status: status == UNFINISHED) == 10 and result.unfinished == 10
    assert took < 10


# Sends 4 requests that are never answered, with a 10-minute timeout, from 2 generator processes.
_CALLER = """
import sys
from emulator.http.loadgen import Request, run_open_loop
run_open_loop(sys.argv[1], [Request("GET", "/never")] * 4, rate=100.0, processes=2, timeout_s=600.0)
"""


def test_the_generator_processes_end_with_their_caller():
    framings = _Framings()
    served = ServedApp(framings)
    served.start()
    caller = subprocess.Popen([sys.executable, "-c", _CALLER, f"http://127.0.0.1:{served.port}"])
    try:
        generators = wait_for(lambda: [pid for pid in child_processes(caller.pid) if "spawn_main" in cmdline(pid)]
                              if len(child_processes(caller.pid)) >= 2 else None, message="the generator processes")
        wait_for(lambda: framings.unanswered == 4, message="the generators to be waiting for their answers")
        caller.kill()  # kill -9: no finally, no clean-up in the caller
        caller.wait()
        wait_for(lambda: not [pid for pid in generators if alive(pid)], timeout=15,
                 message="the generator processes to end with their caller")
    finally:
        if caller.poll() is None:
            caller.kill()
        served.stop()


def test_percentiles_are_nearest_rank():
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0 and percentile([1.0, 2.0, 3.0, 4.0], 0.99) == 4.0
    assert math.isnan(percentile([], 0.5))
