"""A gateway application served from its own thread and event loop, on a free port, for tests."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web


class ServedApp:
    """A gateway on a free port, served from its own thread and loop; subclasses add request helpers."""

    def __init__(self, gateway: Any) -> None:
        """`gateway` is anything with `build_app() -> aiohttp.web.Application`."""
        self._gateway = gateway
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="http-gateway", daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=30)

    async def _serve(self) -> None:
        self._runner = web.AppRunner(self._gateway.build_app())
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # Connections still draining an unread upload (after a 413) end with the server.
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
