"""Lambda execution environments: worker processes that import a function's handler and run it.

One `FunctionPool` per function keeps warm workers (like Lambda's sandboxes) and runs each
invocation in one of them, so a handler that hangs, raises or kills its process never harms the
caller. A timed-out worker is killed and replaced, as Lambda discards a timed-out sandbox.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import multiprocessing
import os
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
            args=(child_conn, str(spec.code_dir), [str(p) for p in spec.layer_dirs], spec.handler, spec.arn, env),
            name=f"lambda:{spec.function_name}",
            daemon=True,
        )
        self.process.start()
        child_conn.close()
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
        request_id = request_id or str(uuid.uuid4())
        timeout = self.spec.timeout if timeout is None else timeout
        with self._slots:
            worker = self._take_worker()
            started = time.monotonic()
            if worker.init_error is not None:
                self._discard(worker)
                return Invocation(request_id, "error", None, worker.init_error, _elapsed_ms(started))
            outcome, payload, error = self._run(worker, event, request_id, timeout, event_builder)
            duration = _elapsed_ms(started)
            if outcome in ("timeout", "crash"):
                self._discard(worker)
            else:
                with self._lock:
                    self._idle.append(worker)
            return Invocation(request_id, outcome, payload, error, duration)

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

    def _run(self, worker: _Worker, event: Any, request_id: str, timeout: float,
             event_builder: str | None) -> tuple[Outcome, Any, dict[str, Any] | None]:
        deadline_ms = int((time.time() + timeout) * 1000)
        try:
            worker.conn.send((request_id, event, deadline_ms, event_builder))
            if not worker.conn.poll(timeout):
                worker.kill()
                return "timeout", None, _error("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds")
            kind, detail = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = worker.process.exitcode
            return "crash", None, _error("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited "
                                         f"with error: exit status {code}")
        if kind == "ok":
            return "success", json.loads(detail) if detail is not None else None, None
        return "error", None, detail

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
                 env: dict[str, str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the runtime, which stops us
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    os.environ.update(env)
    os.chdir(code_dir)
    try:
        function = _load_handler(code_dir, layer_dirs, handler)
    except Exception as exc:  # any import failure is reported on every invoke, as Lambda does
        error = _exception_error(exc)
        error["errorType"] = "Runtime.ImportModuleError"
        error["errorMessage"] = f"Unable to import module '{handler}': {exc}"
        conn.send(("init_error", error))
        return
    conn.send(("ready", None))
    while True:
        message = conn.recv()
        if message is None:
            return
        request_id, event, deadline_ms, event_builder = message
        if event_builder is not None:
            event = _builder(event_builder)(event)
        context = LambdaContext(
            function_name=env["AWS_LAMBDA_FUNCTION_NAME"],
            function_version="$LATEST",
            invoked_function_arn=function_arn,
            memory_limit_in_mb=env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
            aws_request_id=request_id,
            log_group_name=env["AWS_LAMBDA_LOG_GROUP_NAME"],
            log_stream_name=env["AWS_LAMBDA_LOG_STREAM_NAME"],
            deadline_ms=deadline_ms,
        )
        conn.send(_call(function, event, context))


@functools.cache
def _builder(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _call(function: Any, event: Any, context: LambdaContext) -> tuple[str, Any]:
    try:
        result = function(event, context)
    except Exception as exc:
        return "error", _exception_error(exc)
    try:
        return "ok", None if result is None else json.dumps(result)
    except (TypeError, ValueError) as exc:
        return "error", _error("Runtime.MarshalError", f"Unable to marshal response: {exc}")
