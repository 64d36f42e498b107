"""Embedded S3 for local runs: a backend behind a front that enforces POST policies.

The backend listens on an internal loopback port: moto (ThreadedMotoServer, in memory: a
throwaway S3 for tests) or s3rver (`backend="files"`: objects kept as files under `data_dir`,
see `emulator.s3.files`). An aiohttp front, in its own thread and event loop, listens on the
public port. The front relays every request to the backend unchanged, except browser-form POST
uploads, which it checks the way S3 does first (see `emulator.s3.upload`), and CORS preflights,
which it answers from the bucket's rules as S3 does (see `emulator.s3.cors`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol

from aiohttp import web

from emulator.s3.files import S3rverProcess
from emulator.s3.proxy import new_session, proxy
from emulator.s3.upload import FormUploads, form_upload_target, preflight_target

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

# Well-known local credentials (moto's docs use testing/testing, LocalStack's test/test).
FALLBACK_CREDENTIALS = {"test": "test", "testing": "testing"}
STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 5.0  # bound on waiting for in-flight requests at stop()
Backend = Literal["moto", "files"]


class _Upstream(Protocol):
    def stop(self) -> None: ...


def default_credentials(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment's key pair if set, else the well-known local pairs."""
    key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    return {key: secret} if key and secret else dict(FALLBACK_CREDENTIALS)


def start_moto() -> ThreadedMotoServer:
    """moto on an ephemeral loopback port, with bucket CORS rules (not allow-all) in force."""
    os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"  # read by moto.settings at import
    from moto.moto_server import werkzeug_app
    from moto.server import ThreadedMotoServer

    # If moto was imported before the variable was set, its app factory still reads this.
    werkzeug_app.DISABLE_GLOBAL_CORS = True
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


class Front:
    """The aiohttp application; lives entirely in the front's event-loop thread."""

    def __init__(self, upstream: str, credentials: Mapping[str, str]) -> None:
        self._upstream = upstream
        self._session = new_session()
        self._uploads = FormUploads(self._session, upstream, credentials)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        target = form_upload_target(request)
        if target is not None:
            return await self._uploads.handle(request, target)
        bucket = preflight_target(request)
        if bucket is not None:
            return await self._uploads.preflight(request, bucket)
        return await proxy(request, self._session, self._upstream)

    async def close(self) -> None:
        await self._session.close()


class S3Emulator:
    """A backend + policy-enforcing front, embeddable: start() returns once both are listening.

    `backend="moto"` keeps everything in memory (gone at stop()); `backend="files"` runs s3rver
    storing under `data_dir`, so a later emulator on the same directory serves the same objects.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        backend: Backend = "moto",
        data_dir: Path | None = None,
    ) -> None:
        if backend not in ("moto", "files"):
            raise ValueError(f"unknown S3 backend {backend!r}: 'moto' or 'files'")
        if backend == "files" and data_dir is None:
            raise ValueError("the files backend needs a data_dir")
        self._host = host
        self._port = port
        self._credentials = dict(credentials) if credentials is not None else default_credentials()
        self.backend = backend
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._upstream: _Upstream | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._bound_port: int | None = None
        self._startup_error: BaseException | None = None

    @property
    def endpoint_url(self) -> str:
        if self._bound_port is None:
            raise RuntimeError("S3Emulator is not running; call start() first")
        return f"http://{_url_host(self._host)}:{self._bound_port}"

    @property
    def backend_pid(self) -> int | None:
        """The s3rver process id (files backend, while running); moto runs in this process."""
        return self._upstream.pid if isinstance(self._upstream, S3rverProcess) else None

    def start(self) -> str:
        """Start the backend and the front; returns the public endpoint URL."""
        if self._thread is not None:
            return self.endpoint_url
        try:
            self._start_front(self._start_backend())
        except BaseException:
            self.stop()
            raise
        return self.endpoint_url

    def _start_backend(self) -> str:
        if self.backend == "files":
            assert self.data_dir is not None
            files = S3rverProcess(self.data_dir, self._credentials)
            self._upstream = files
            return files.start()
        moto = start_moto()
        self._upstream = moto
        return f"http://127.0.0.1:{moto.get_host_and_port()[1]}"

    def stop(self) -> None:
        """Stop the front, then the backend; safe to call twice or after a failed start()."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed: nothing to stop
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(STARTUP_TIMEOUT)
        if self._upstream is not None:
            self._upstream.stop()
        self._upstream = self._thread = self._loop = self._stopping = self._bound_port = None

    def __enter__(self) -> S3Emulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _start_front(self, upstream: str) -> None:
        ready = threading.Event()
        self._startup_error = None
        self._thread = threading.Thread(
            target=self._run_loop, args=(upstream, ready), name="s3-emulator-front", daemon=True
        )
        self._thread.start()
        if not ready.wait(STARTUP_TIMEOUT):
            raise RuntimeError("S3 emulator front did not start in time")
        if self._startup_error is not None:
            raise self._startup_error

    def _run_loop(self, upstream: str, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(upstream, ready))
        finally:
            loop.close()

    async def _serve(self, upstream: str, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        front = Front(upstream, self._credentials)
        runner = web.AppRunner(front.app(), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        try:
            await runner.setup()
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
            self._bound_port = int(runner.addresses[0][1])
        except BaseException as error:  # reported to start(), in the caller's thread
            self._startup_error = error
            await runner.cleanup()
            await front.close()
            return
        finally:
            ready.set()
        try:
            await self._stopping.wait()
        finally:
            await runner.cleanup()
            await front.close()


def _url_host(host: str) -> str:
    # A wildcard bind address is reachable through loopback; IPv6 literals need brackets.
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
