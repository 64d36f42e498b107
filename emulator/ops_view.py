"""The ops view: a live page at the status address (http://127.0.0.1:3002/ by default).

Per event source mapping: invocations, errors, duration p50/p99, records per second and lag per
partition, with sparklines the page draws from the figures it polls (GET /status, each second);
records per second per topic; the latest failed invocations with their error and stack trace; and
each failure destination's records with their reasons and a redrive button (GET /failures,
POST /failures/redrive). The page is one static file (ops_view.html): no build step, no CDN.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.kafka import dlq
from emulator.kafka.esm import EventSourceMapping

PAGE = Path(__file__).with_name("ops_view.html")
FAILURES_SHOWN = 20  # latest pending records shown per failure topic
FAILURES_CACHE_S = 2.0  # reading a failure topic costs a consumer; the page polls every few seconds


class OpsView:
    """Routes of the ops view on the runtime's status server."""

    def __init__(self, mappings: Iterable[EventSourceMapping], bootstrap_servers: str | None,
                 status: Callable[[], dict[str, Any]], nudge: Callable[[list[str]], int]) -> None:
        # Failure topic -> the source topics whose records land there.
        self._sources: dict[str, set[str]] = {}
        for mapping in mappings:
            if mapping.enabled and mapping.on_failure_topic:
                self._sources.setdefault(mapping.on_failure_topic, set()).add(mapping.topic)
        self._servers = bootstrap_servers
        self._status = status
        self._nudge = nudge
        self._cached: tuple[float, dict[str, Any]] | None = None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._index)
        app.router.add_get("/failures", self._failures)
        app.router.add_post("/failures/redrive", self._redrive)

    async def _index(self, request: web.Request) -> web.StreamResponse:
        # Browsers get the page; scripts asking / keep getting the JSON status, as before.
        if "text/html" in request.headers.get("Accept", ""):
            return web.FileResponse(PAGE, headers={"Content-Type": "text/html; charset=utf-8",
                                                   "Cache-Control": "no-store"})
        return web.json_response(self._status())

    async def _failures(self, _request: web.Request) -> web.Response:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > FAILURES_CACHE_S:
            self._cached = (now, await asyncio.get_running_loop().run_in_executor(None, self._read_failures))
        return web.json_response(self._cached[1])

    def _read_failures(self) -> dict[str, Any]:
        topics: list[dict[str, Any]] = []
        for topic in sorted(self._sources):
            try:
                failures = dlq.read_failures(self._servers or "", topic)
            except dlq.DlqError as exc:
                topics.append({"topic": topic, "error": str(exc), "summary": [], "records": []})
                continue
            pending = [f for f in failures if not f.redriven]
            topics.append({"topic": topic, "sources": sorted(self._sources[topic]),
                           "summary": dlq.summary_rows(failures),
                           "records": [_record(f) for f in reversed(pending[-FAILURES_SHOWN:])]})
        return {"topics": topics}

    async def _redrive(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"message": "the body must be JSON"}, status=400)
        topic = body.get("topic") if isinstance(body, dict) else None
        if topic not in self._sources:
            return web.json_response({"message": f"no failure destination named {topic!r}; "
                                                 f"known: {', '.join(sorted(self._sources)) or 'none'}"}, status=400)
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                None, lambda: dlq.redrive(self._servers or "", topic))
        except dlq.DlqError as exc:
            return web.json_response({"message": str(exc)}, status=502)
        self._cached = None
        self._nudge(sorted(result.produced))
        return web.json_response(asdict(result))


def _record(failure: dlq.Failure) -> dict[str, Any]:
    value = failure.decoded_value()
    return {"partition": failure.partition, "offset": failure.offset, "failed_at": failure.failed_at,
            "function": failure.function, "condition": failure.condition, "error": failure.error,
            "source": f"{failure.source_topic}[{failure.source_partition}]@{failure.source_offset}",
            "key": failure.key.decode("utf-8", "replace") if failure.key is not None else None,
            "value": value if not isinstance(value, bytes) else None}
