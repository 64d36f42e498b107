"""FunctionPool.invoke_async and AsyncInvoker, the gateways' way to call sandboxes: the loop watches the
sandbox's pipe, no thread per call, with the same outcomes as `invoke` (success, error, timeout, crash)
and a sandbox that is never reused while an abandoned call's answer may still be in its pipe."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from emulator.event_loop import new_event_loop
from emulator.sandbox import AsyncInvoker, FunctionPool
from emulator.template import Template, parse_template
from tests.support.repo import APPS

TEMPLATE = APPS / "http_app" / "template.yaml"


class CountingExecutor(ThreadPoolExecutor):
    """The loop's default executor, counting what the slow way sends to threads."""

    def __init__(self) -> None:
        super().__init__(max_workers=4)
        self.calls = 0

    def submit(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls += 1
        return super().submit(*args, **kwargs)


@pytest.fixture(scope="module")
def template() -> Template:
    return parse_template(TEMPLATE)


@pytest.fixture
def hello(template: Template) -> Iterator[FunctionPool]:
    pool = FunctionPool(template.functions["HelloFunction"], region=template.region, max_workers=2)
    pool.warm(2)
    yield pool
    pool.close()


def event(path: str, **parameters: str) -> dict[str, Any]:
    return {"version": "2.0", "rawPath": path, "pathParameters": parameters, "queryStringParameters": {}}


def run_with_counted_threads(scenario: Any) -> tuple[Any, CountingExecutor]:
    executor = CountingExecutor()

    async def main() -> Any:
        asyncio.get_running_loop().set_default_executor(executor)
        return await scenario()

    try:
        return asyncio.run(main()), executor
    finally:
        executor.shutdown()


def test_calls_beyond_the_pool_size_queue_on_the_loop_and_never_use_a_thread(hello: FunctionPool) -> None:
    invoker = AsyncInvoker(hello)
    sandboxes = set(hello.worker_pids)

    async def scenario() -> list[Any]:
        return await asyncio.gather(*(invoker.invoke(event("/hello"), request_id=f"r{n}") for n in range(200)))

    invocations, threads = run_with_counted_threads(scenario)
    assert [i.outcome for i in invocations] == ["success"] * 200
    assert {i.payload["body"] for i in invocations} == {"hello"}
    assert [i.request_id for i in invocations] == [f"r{n}" for n in range(200)]
    assert threads.calls == 0  # every call found a warm sandbox free
    assert set(hello.worker_pids) == sandboxes  # and reused it


def test_a_cold_pool_starts_its_sandboxes_on_threads_then_goes_fast(template: Template) -> None:
    pool = FunctionPool(template.functions["HelloFunction"], region=template.region, max_workers=2)
    invoker = AsyncInvoker(pool)
    try:
        async def scenario() -> list[Any]:
            first = await asyncio.gather(*(invoker.invoke(event("/hello"), request_id=f"a{n}") for n in range(2)))
            rest = await asyncio.gather(*(invoker.invoke(event("/hello"), request_id=f"b{n}") for n in range(20)))
            return [*first, *rest]

        invocations, threads = run_with_counted_threads(scenario)
        assert all(i.ok for i in invocations)
        assert threads.calls == 2  # the two cold starts; the 20 after them went the fast way
        assert len(pool.worker_pids) == 2
    finally:
        pool.close()


def test_errors_crashes_and_timeouts_are_reported_and_the_pool_recovers(template: Template) -> None:
    fail = FunctionPool(template.functions["FailingFunction"], region=template.region, max_workers=1)
    slow = FunctionPool(template.functions["SlowFunction"], region=template.region, max_workers=1)
    fail.warm(1)
    slow.warm(1)
    try:
        async def scenario() -> list[Any]:
            raised = await fail.invoke_async(event("/fail/raise", mode="raise"), request_id="raise")
            crashed = await fail.invoke_async(event("/fail/exit", mode="exit"), request_id="exit")
            after_crash = await fail.invoke_async(event("/fail/raise", mode="raise"), request_id="again")
            timed_out = await slow.invoke_async(event("/slow"), request_id="slow")
            return [raised, crashed, after_crash, timed_out]

        raised, crashed, after_crash, timed_out = asyncio.run(scenario())
        assert (raised.outcome, raised.error["errorType"]) == ("error", "RuntimeError")
        assert (crashed.outcome, crashed.error["errorType"]) == ("crash", "Runtime.ExitError")
        assert after_crash.outcome == "error"  # a fresh sandbox served it
        assert (timed_out.outcome, timed_out.error["errorType"]) == ("timeout", "Sandbox.Timedout")
        assert 1000 <= timed_out.duration_ms < 5000  # SlowFunction's Timeout is 1 s
        assert slow.worker_pids == []  # the timed-out sandbox is gone
    finally:
        fail.close()
        slow.close()


def test_an_abandoned_call_retires_its_sandbox(template: Template) -> None:
    slow = FunctionPool(template.functions["SlowFunction"], region=template.region, max_workers=1)
    slow.warm(1)
    busy = slow.worker_pids
    try:
        async def scenario() -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(slow.invoke_async(event("/slow"), request_id="given-up", timeout=30),
                                       timeout=0.3)

        asyncio.run(scenario())
        # Its answer would have reached the next caller: the sandbox is killed, not reused.
        assert busy and not set(busy) & set(slow.worker_pids)
    finally:
        slow.close()


def run_on_the_gateways_loop(scenario: Any) -> Any:
    """`scenario()` on the loop the gateways run on (uvloop by default, whose watchers make a watched
    pipe non-blocking)."""
    loop = new_event_loop()
    try:
        return loop.run_until_complete(scenario())
    finally:
        loop.close()


def test_answers_and_events_larger_than_a_pipe_travel_whole_on_the_gateways_loop(template: Template) -> None:
    # A pipe holds 64 KiB: a bigger event or answer crosses it in parts, and a read or write that finds
    # the pipe empty or full must wait for the sandbox, not fail (a "crash" and a 502 did, under load).
    echo = FunctionPool(template.functions["EchoFunction"], region=template.region, max_workers=1)
    echo.warm(1)
    sandbox = echo.worker_pids
    bodies = [str(n) * (3 * 1024 * 1024) for n in range(6)]  # 3 MiB each, the answer holds it again
    try:
        async def scenario() -> list[Any]:
            return [await echo.invoke_async({**event("/items"), "body": body}, request_id=f"big{n}")
                    for n, body in enumerate(bodies)]

        invocations = run_on_the_gateways_loop(scenario)
        assert [i.outcome for i in invocations] == ["success"] * len(bodies), [i.error for i in invocations]
        assert [json.loads(i.payload["body"])["event"]["body"] for i in invocations] == bodies
        assert echo.worker_pids == sandbox  # one sandbox served them all
    finally:
        echo.close()
