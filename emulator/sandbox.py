"""Lambda execution environments: worker processes that import a function's handler and run it.

One `FunctionPool` per function keeps warm workers (like Lambda's sandboxes) and runs each
invocation in one of them, so a handler that hangs, raises or kills its process never harms the
caller. A timed-out worker is killed and replaced, as Lambda discards a timed-out sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import importlib
import io
import json
import math
import multiprocessing
import os
import pickle
import random
import select
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Literal

from emulator.context import LambdaContext
from emulator.process_titles import set_process_title
from emulator.template import FunctionSpec

# Lambda gives a function's init (module import) 10 s; a cold Python on a busy 2-core box needs slack.
INIT_TIMEOUT_SECONDS = 60.0
_ORPHAN_CHECK_SECONDS = 1.0
Outcome = Literal["success", "error", "timeout", "crash"]


@dataclass(frozen=True)
class Invocation:
    request_id: str
    outcome: Outcome
    payload: Any
    error: dict[str, Any] | None
    duration_ms: float
    # When the sandbox called the handler (epoch seconds, the sandbox's clock) and how long the call
    # took there; None when the handler never ran (init error, timeout, crash).
    started_at: float | None = None
    handler_ms: float | None = None
    # The values of the CloudWatch embedded-metric-format lines the handler printed, summed per metric.
    metrics: dict[str, float] | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "success"

    @property
    def function_error(self) -> str | None:
        """The `X-Amz-Function-Error` AWS reports: 'Unhandled' for raised errors, timeouts and crashes."""
        return None if self.ok else "Unhandled"


def lambda_environment(spec: FunctionSpec, region: str, extra: Mapping[str, str]) -> dict[str, str]:
    """Environment a function sees: the runtime's reserved variables, then the template's, then overrides."""
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
        "AWS_LAMBDA_RUNTIME_API": "local",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_SAM_LOCAL": "true",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        "TZ": ":UTC",
        # Lambda always gives a function its role's credentials; locally, the caller's or dummy ones
        # (the local S3 and the WebSocket management API accept any).
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    }
    if os.environ.get("AWS_SESSION_TOKEN"):
        env["AWS_SESSION_TOKEN"] = os.environ["AWS_SESSION_TOKEN"]
    env.update(spec.environment)
    env.update(extra)
    return env


class _Worker:
    """One sandbox process and the parent's end of its pipe."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str]) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child_conn = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_worker_main,
            args=(child_conn, str(spec.code_dir), [str(p) for p in spec.layer_dirs], spec.handler, spec.arn, env,
                  os.getpid()),
            name=f"lambda:{spec.function_name}",
            daemon=True,
        )
        self.process.start()
        child_conn.close()
        # One poll object per worker: Connection.poll() builds a selector on every call.
        self._readable = select.poll()
        self._readable.register(self.conn.fileno(), select.POLLIN)
        self.init_error: dict[str, Any] | None = None
        if not self.conn.poll(INIT_TIMEOUT_SECONDS):
            self.kill()
            self.init_error = _error("Runtime.InitTimeout", f"init exceeded {INIT_TIMEOUT_SECONDS:.0f} s")
            return
        try:
            kind, detail = self.conn.recv()
        except (EOFError, OSError):
            self.init_error = _error("Runtime.ExitError", "worker exited during init")
            return
        if kind == "init_error":
            self.init_error = detail

    @property
    def alive(self) -> bool:
        return self.process.is_alive() and self.init_error is None

    def wait_readable(self, timeout: float) -> bool:
        """True when an answer (or the end of the pipe) is there within `timeout` seconds."""
        return bool(self._readable.poll(max(0, math.ceil(timeout * 1000))))

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        """Ask a worker to exit cleanly (it finishes nothing new), then make sure it is gone."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(timeout=2)
        self.kill()


class FunctionPool:
    """Warm sandboxes for one function; `invoke` is thread-safe and blocks until a sandbox is free."""

    def __init__(self, spec: FunctionSpec, *, region: str, extra_env: Mapping[str, str] | None = None,
                 max_workers: int = 4) -> None:
        self.spec = spec
        self.env = lambda_environment(spec, region, extra_env or {})
        self.max_workers = max(1, max_workers)
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(self.max_workers)
        self._closed = False

    def warm(self, count: int = 1) -> None:
        """Start sandboxes ahead of the first request so it does not pay the cold start."""
        workers = [self._start_worker() for _ in range(min(count, self.max_workers))]
        with self._lock:
            self._idle.extend(w for w in workers if w.alive)

    def invoke(self, event: Any, *, request_id: str | None = None, timeout: float | None = None,
               event_builder: str | None = None) -> Invocation:
        """Run the handler on `event`. With `event_builder` ("module:function"), the sandbox first turns
        `event` into the real event with that function, so the caller's process does less work."""
        return self.invoke_many([event], request_ids=[request_id or new_request_id()], timeout=timeout,
                                event_builder=event_builder)[0]

    async def invoke_async(self, event: Any, *, request_id: str | None = None,
                           timeout: float | None = None) -> Invocation:
        """`invoke` for a caller on an asyncio loop (the gateways): the loop watches the sandbox's pipe for
        the answer, where `invoke` on a thread would cost a thread wake-up and a GIL hand-off each way
        per call. Waiting for a busy pool and starting a sandbox block, so those go to a thread: callers
        that keep at most `max_workers` calls in flight (AsyncInvoker) get the fast path every time
        once the sandboxes are warm."""
        request_id = request_id or new_request_id()
        timeout = self.spec.timeout if timeout is None else timeout
        worker = self._take_idle_now()
        if worker is None:
            call = functools.partial(self.invoke, event, request_id=request_id, timeout=timeout)
            return await asyncio.get_running_loop().run_in_executor(None, call)
        keep = False
        try:
            invocation = await self._run_async(worker, event, request_id, timeout)
            keep = invocation.outcome not in ("timeout", "crash")
            return invocation
        finally:
            # Cancelled while the sandbox works (the caller went away): its answer would be read by the
            # next call, so that sandbox goes.
            self._give_back(worker, keep)

    async def _run_async(self, worker: _Worker, event: Any, request_id: str, timeout: float) -> Invocation:
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[bool] = loop.create_future()
        fd = worker.conn.fileno()

        def settle(readable: bool) -> None:
            if not answered.done():
                answered.set_result(readable)

        mark = time.monotonic()
        try:
            worker.conn.send_bytes(_dumps(([(request_id, event)], timeout, None, False)))
        except OSError:
            return self._crashed(worker, request_id, mark)
        loop.add_reader(fd, settle, True)
        timer = loop.call_later(timeout, settle, False)
        try:
            readable = await answered
        finally:
            loop.remove_reader(fd)
            # uvloop (libuv) makes a watched fd non-blocking, and the pipe carries messages bigger than
            # it holds: reads and writes of a whole message must wait for the sandbox, as they do on
            # threads, or a message cut at 64 KiB looks like a crash. (A pool closed meanwhile closed
            # the pipe: the fd may be another file's by now.)
            if not worker.conn.closed:
                with contextlib.suppress(OSError):
                    os.set_blocking(fd, True)
            timer.cancel()
        if not readable:
            worker.kill()
            return Invocation(request_id, "timeout", None,
                              _error("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds"),
                              _elapsed_ms(mark))
        try:
            answer = worker.conn.recv_bytes()  # the rest of a big answer may still be on its way
        except (EOFError, OSError):
            return self._crashed(worker, request_id, mark)
        return _invocation(request_id, pickle.loads(answer), _elapsed_ms(mark))

    def invoke_many(self, events: list[Any], *, request_ids: list[str] | None = None, timeout: float | None = None,
                    event_builder: str | None = None, stop_on_reported_failures: bool = False) -> list[Invocation]:
        """Run the handler on each event in turn, one invocation after the other in one sandbox: the
        events travel in one message and the results come back as each invocation ends, so a stream of
        small invocations does not pay a round trip between processes each.

        The sandbox stops after an invocation that did not succeed, or (`stop_on_reported_failures`)
        that returned a partial batch response naming failures; the ones after it do not run. Returns
        the invocations that ran, in order: a prefix of `events`, never empty. Each invocation has the
        function's whole timeout from its own start, as separate invocations would."""
        request_ids = request_ids or [new_request_id() for _ in events]
        timeout = self.spec.timeout if timeout is None else timeout
        with self._slots:
            worker = self._take_worker()
            started = time.monotonic()
            if worker.init_error is not None:
                self._discard(worker)
                return [Invocation(request_ids[0], "error", None, worker.init_error, _elapsed_ms(started))]
            invocations = self._run(worker, events, request_ids, timeout, event_builder, stop_on_reported_failures)
            if invocations[-1].outcome in ("timeout", "crash"):
                self._discard(worker)
            else:
                with self._lock:
                    self._idle.append(worker)
            return invocations

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
        for worker in workers:
            worker.stop()

    @property
    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def _run(self, worker: _Worker, events: list[Any], request_ids: list[str], timeout: float,
             event_builder: str | None, stop_on_reported_failures: bool) -> list[Invocation]:
        invocations: list[Invocation] = []
        mark = time.monotonic()
        try:
            worker.conn.send_bytes(_dumps((list(zip(request_ids, events, strict=True)), timeout, event_builder,
                                           stop_on_reported_failures)))
        except OSError:
            return [self._crashed(worker, request_ids[0], mark)]
        for request_id in request_ids:
            try:
                if not worker.wait_readable(timeout):
                    worker.kill()
                    invocations.append(Invocation(
                        request_id, "timeout", None,
                        _error("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds"), _elapsed_ms(mark)))
                    break
                answer = pickle.loads(worker.conn.recv_bytes())
            except (EOFError, OSError):
                invocations.append(self._crashed(worker, request_id, mark))
                break
            # The first one: the round trip. The ones after it in the same message: the sandbox's own
            # time for each (event, handler, response), since their results may wait to be read.
            invocation = _invocation(request_id, answer, None if invocations else _elapsed_ms(mark))
            mark = time.monotonic()
            invocations.append(invocation)
            if not answer[_MORE]:
                break
        return invocations

    @staticmethod
    def _crashed(worker: _Worker, request_id: str, mark: float) -> Invocation:
        worker.process.join(timeout=1)  # its exit code, when it is going
        code = worker.process.exitcode
        return Invocation(request_id, "crash", None, _error(
            "Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"),
            _elapsed_ms(mark))

    def _take_idle_now(self) -> _Worker | None:
        """A slot and a warm sandbox without waiting for either, or None (the caller takes the slow way)."""
        if not self._slots.acquire(blocking=False):
            return None
        with self._lock:
            while self._idle and not self._closed:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
                self._all.discard(worker)
        self._slots.release()
        return None

    def _give_back(self, worker: _Worker, keep: bool) -> None:
        """Return a sandbox taken by `_take_idle_now` (`keep`: it is fit for the next call) and its slot."""
        try:
            if keep:
                with self._lock:
                    self._idle.append(worker)
            else:
                self._discard(worker)
        finally:
            self._slots.release()

    def _take_worker(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"function {self.spec.function_name} is shut down")
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
                self._all.discard(worker)
        return self._start_worker()

    def _start_worker(self) -> _Worker:
        worker = _Worker(self.spec, self.env)
        with self._lock:
            self._all.add(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)


class AsyncInvoker:
    """One pool's invocations for one event loop (a gateway's): at most the pool's size in flight, the
    others waiting on the loop in arrival order, so each call finds a warm sandbox free and takes
    `invoke_async`'s fast way (the loop watching the sandbox's pipe; no thread per call)."""

    def __init__(self, pool: FunctionPool) -> None:
        self._pool = pool
        self._free = asyncio.Semaphore(pool.max_workers)

    async def invoke(self, event: Any, *, request_id: str, timeout: float | None = None) -> Invocation:
        """`pool.invoke(event, ...)`; RuntimeError once the pool is closed."""
        async with self._free:
            return await self._pool.invoke_async(event, request_id=request_id, timeout=timeout)


_PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL
_MORE = 5  # the sandbox's answer: (kind, detail, started_at, handler_ms, elapsed_ms, more, metrics)


def _invocation(request_id: str, answer: tuple[Any, ...], duration_ms: float | None) -> Invocation:
    """An invocation from the sandbox's answer; `duration_ms` None: the sandbox's own time for it."""
    kind, detail, started_at, handler_ms, elapsed_ms, _more, metrics = answer
    duration = elapsed_ms if duration_ms is None else duration_ms
    if kind == "ok":
        payload = json.loads(detail) if detail is not None else None
        return Invocation(request_id, "success", payload, None, duration, started_at, handler_ms, metrics)
    return Invocation(request_id, "error", None, detail, duration, started_at, handler_ms, metrics)


def _dumps(message: Any) -> bytes:
    """Pickle without the memo (Connection.send's ForkingPickler keeps one, and pickle.dumps too): an
    event's records are thousands of small objects referenced once, and recording each costs more than
    pickling it. A structure that refers to itself needs the memo: the normal way then."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, _PICKLE_PROTOCOL)
    pickler.fast = True  # documented as deprecated, and still the way to do it
    try:
        pickler.dump(message)
    except (ValueError, RecursionError):
        return pickle.dumps(message, _PICKLE_PROTOCOL)
    return buffer.getvalue()


def new_request_id() -> str:
    """A random (version 4) UUID as Lambda's request ids are, without uuid.uuid4's object and urandom call."""
    number = random.getrandbits(128) & ~(0xF000 << 64 | 0xC000 << 48) | (0x4000 << 64 | 0x8000 << 48)
    text = f"{number:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _error(error_type: str, message: str, stack: list[str] | None = None) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": message, "stackTrace": stack or []}


def _exception_error(exc: BaseException) -> dict[str, Any]:
    stack = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    return _error(type(exc).__name__, str(exc), [line.rstrip() for line in stack])


# ----------------------------------------------------------------------------------------------------
# Inside the sandbox process


def _exit_when_orphaned(parent_pid: int) -> None:
    while True:
        time.sleep(_ORPHAN_CHECK_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(0)


def _load_handler(code_dir: str, layer_dirs: list[str], handler: str) -> Any:
    module_name, _, function_name = handler.rpartition(".")
    for path in reversed([code_dir, *layer_dirs]):
        sys.path.insert(0, path)
    module = importlib.import_module(module_name.replace("/", "."))
    return getattr(module, function_name)


def _worker_main(conn: Connection, code_dir: str, layer_dirs: list[str], handler: str, function_arn: str,
                 env: dict[str, str], parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the runtime, which stops us
    set_process_title(f"sandbox {function_arn.rsplit(':', 1)[-1]}")
    # The parent's pid comes from the parent: os.getppid() here is already 1 if it died while we started.
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    os.environ.update(env)
    os.chdir(code_dir)
    tap = _MetricsTap(sys.stdout)
    sys.stdout = tap  # before the handler's import: its loggers write through the tap too
    try:
        function = _load_handler(code_dir, layer_dirs, handler)
    except Exception as exc:  # any import failure is reported on every invoke, as Lambda does
        error = _exception_error(exc)
        error["errorType"] = "Runtime.ImportModuleError"
        error["errorMessage"] = f"Unable to import module '{handler}': {exc}"
        conn.send(("init_error", error))
        return
    # What the import made lives as long as the sandbox: later collections need not look at it again.
    gc.freeze()
    conn.send(("ready", None))
    while True:
        try:
            message = pickle.loads(conn.recv_bytes())
        except EOFError:
            return
        if message is None:
            return
        invocations, timeout, event_builder, stop_on_reported_failures = message
        build = _builder(event_builder) if event_builder is not None else None
        last = len(invocations) - 1
        for index, (request_id, event) in enumerate(invocations):
            began = time.perf_counter()
            if build is not None:
                event = build(event)
            context = LambdaContext(
                function_name=env["AWS_LAMBDA_FUNCTION_NAME"],
                function_version="$LATEST",
                invoked_function_arn=function_arn,
                memory_limit_in_mb=env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
                aws_request_id=request_id,
                log_group_name=env["AWS_LAMBDA_LOG_GROUP_NAME"],
                log_stream_name=env["AWS_LAMBDA_LOG_STREAM_NAME"],
                deadline_ms=int((time.time() + timeout) * 1000),
            )
            started_at = time.time()
            started = time.perf_counter()
            kind, detail, result = _call(function, event, context)
            ended = time.perf_counter()
            del event, context  # freed before the next one is built
            more = index < last and kind == "ok" and not (stop_on_reported_failures and _reports_failures(result))
            conn.send_bytes(pickle.dumps((kind, detail, started_at, (ended - started) * 1000, (ended - began) * 1000,
                                          more, tap.take()), _PICKLE_PROTOCOL))
            if not more:
                break


class _MetricsTap(io.TextIOBase):
    """The sandbox's stdout. Lambda ships a function's stdout to CloudWatch Logs, which turns lines in
    the embedded metric format (Powertools Metrics prints them) into metrics; here such a line becomes
    the invocation's metrics (the status board and ops view show them) and everything else is printed."""

    def __init__(self, out: Any) -> None:
        super().__init__()
        self._out = out
        self._pending = ""
        self._metrics: dict[str, float] = {}

    def write(self, text: str) -> int:
        if not self._pending and _EMF_MARK not in text:
            return int(self._out.write(text))
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            if not self._take(line):
                self._out.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self._out.flush()

    def take(self) -> dict[str, float] | None:
        """The metrics since the last take (None when there were none)."""
        metrics, self._metrics = self._metrics, {}
        return metrics or None

    def _take(self, line: str) -> bool:
        if not line.startswith("{" + _EMF_MARK):
            return False
        try:
            document = json.loads(line)
            names = [m["Name"] for d in document["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
        except (ValueError, KeyError, TypeError):
            return False
        for name in names:
            values = document.get(name)
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, int | float):
                    self._metrics[name] = self._metrics.get(name, 0.0) + value
        return True


_EMF_MARK = '"_aws":'


def _reports_failures(result: Any) -> bool:
    """A partial batch response that names failed records (see the Kafka poller)."""
    return isinstance(result, dict) and bool(result.get("batchItemFailures"))


@functools.cache
def _builder(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _call(function: Any, event: Any, context: LambdaContext) -> tuple[str, Any, Any]:
    """(kind, detail for the caller, the handler's own result)."""
    try:
        result = function(event, context)
    except Exception as exc:
        return "error", _exception_error(exc), None
    try:
        return "ok", None if result is None else json.dumps(result), result
    except (TypeError, ValueError) as exc:
        return "error", _error("Runtime.MarshalError", f"Unable to marshal response: {exc}"), None
