"""The local runtime: runs every function of a SAM template with its triggers.

- Kafka event source mappings: one poller process per mapping and worker (`workers`), restarted
  when it dies; it resumes from the committed offsets. Idle pollers sleep (no fetches); `nudge(topics)`
  (or `POST /nudge` on the status server) wakes the pollers of those topics at once, and each sleeping
  poller looks for records by itself every second.
- HTTP API and WebSocket API: served from this process, each function on its own sandboxes.
- A status endpoint with the figures of every mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from aiohttp import web
from aws_lambda_powertools import Logger

from emulator.event_loop import new_event_loop
from emulator.kafka.esm import EventSourceMapping, kafka_mappings
from emulator.ops_view import OpsView
from emulator.process_titles import set_process_title
from emulator.sandbox import FunctionPool
from emulator.status import StatusBoard
from emulator.template import Template, TemplateError, parse_template

logger = Logger(service="emulator-runtime")

RESTART_BACKOFF_MAX_S = 10.0
STOP_GRACE_S = 15.0
# A poller told to stop exits within this, whatever the broker's state (the runtime waits STOP_GRACE_S).
POLLER_STOP_DEADLINE_S = 4.5


@dataclass
class RuntimeOptions:
    template_path: Path
    kafka_bootstrap_servers: str | None = None
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    env_vars_file: Path | None = None
    region: str = "us-east-1"
    workers: int = 1
    max_concurrency: int = 4
    session_timeout_ms: int = 6000
    host: str = "127.0.0.1"
    http_port: int = 3000
    websocket_port: int = 3001
    status_port: int = 3002
    static_dir: Path | None = None
    api_workers: int = 4
    # Sandboxes each poller starts before it joins its group (benchmarks: no cold start in the figures).
    warm_sandboxes: int = 0
    # How often a sleeping poller fetches by itself (None: the poller's default, a second); tests set it.
    look_interval_s: float | None = None


def load_env_vars_file(path: Path | None) -> dict[str, dict[str, str]]:
    """`sam local --env-vars` format: {"Parameters": {...all functions}, "<LogicalId>": {...}}."""
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise TemplateError(str(path), f"cannot read the env vars file: {exc}") from exc
    if not isinstance(document, dict):
        raise TemplateError(str(path), "the env vars file must be a JSON object")
    return {str(k): {str(n): str(v) for n, v in (vs or {}).items()} for k, vs in document.items()}


def function_overrides(template: Template, logical_id: str, env_file: Mapping[str, Mapping[str, str]],
                       rewrites: Mapping[str, str]) -> dict[str, str]:
    """Variables that replace the template's for one function, as `sam local --env-vars` does:
    only variables the function declares can be overridden."""
    spec = template.functions[logical_id]
    from emulator.websocket.spec import rewrite_environment

    declared = spec.environment
    overrides = {k: v for k, v in env_file.get("Parameters", {}).items() if k in declared}
    overrides.update({k: v for k, v in env_file.get(logical_id, {}).items() if k in declared})
    # API endpoints the template builds for AWS (https://<api>.execute-api...) point at the local gateways.
    overrides.update(rewrite_environment({**declared, **overrides}, rewrites))
    return overrides


def _poller_process(template_path: str, parameter_overrides: dict[str, str], function_id: str, event_name: str,
                    options: dict[str, Any], reports: Any, nudges: Connection, parent_pid: int) -> None:
    """Entry point of a poller process (spawned). `nudges`: the read end of the runtime's nudge pipe."""
    from emulator.kafka.esm import mapping_from_event
    from emulator.kafka.poller import Poller, PollerOptions

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runtime's; it sends us SIGTERM
    set_process_title(f"poller {function_id}.{event_name}")
    # Watched from the start: a runtime killed while its pollers start (20 of them take seconds on 2
    # cores) must not leave them to connect, warm sandboxes and poll for nobody.
    started: list[Any] = []
    threading.Thread(target=_stop_when_orphaned, daemon=True, args=(
        parent_pid, lambda: started[0].stop() if started else os._exit(1))).start()
    template = parse_template(Path(template_path), parameter_overrides)
    function = template.functions[function_id]
    event = next(e for e in function.events if e.name == event_name)
    poller = Poller(mapping_from_event(function, event), PollerOptions(**options),
                    report=lambda stats: reports.put((os.getpid(), stats)), nudge_fd=nudges.fileno())
    signal.signal(signal.SIGTERM, lambda *_: _stop_within(POLLER_STOP_DEADLINE_S, poller.stop))
    started.append(poller)
    Poller.tune_process()
    poller.run()


def _stop_when_orphaned(parent_pid: int, stop: Any) -> None:
    """If the runtime dies without stopping us (kill -9), leave the group cleanly and exit."""
    while os.getppid() == parent_pid:
        time.sleep(1)
    _stop_within(POLLER_STOP_DEADLINE_S, stop)


def _stop_within(deadline_s: float, stop: Any) -> None:
    """Stop cleanly (finish in-flight batches, commit, leave the group), or exit when that takes
    longer than `deadline_s`: with the broker gone, closing the consumer alone can block for a minute.
    Nothing is lost by exiting: offsets not committed are delivered again (at least once)."""
    timer = threading.Timer(deadline_s, os._exit, args=(1,))
    timer.daemon = True
    timer.start()
    stop()


_NUDGE = b"n"


@dataclass
class _PollerSlot:
    mapping: EventSourceMapping
    index: int
    process: BaseProcess | None = None
    restarts: int = 0
    next_start: float = 0.0
    nudges: Connection | None = None  # the write end of this poller's nudge pipe (non-blocking)


class Runtime:
    """Starts, watches and stops everything the template declares."""

    def __init__(self, options: RuntimeOptions) -> None:
        self.options = options
        self.template = parse_template(options.template_path, options.parameter_overrides,
                                       region=options.region)
        self.mappings = kafka_mappings(self.template)
        self.env_file = load_env_vars_file(options.env_vars_file)
        self.board = StatusBoard()
        self._context = multiprocessing.get_context("spawn")
        self._reports: Any = self._context.Queue()
        self._slots: list[_PollerSlot] = []
        self._stopping = threading.Event()
        self._nudge_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._pools: dict[str, FunctionPool] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runners: list[web.AppRunner] = []
        self.urls: dict[str, str] = {}
        self._endpoint_rewrites: dict[str, str] = {}
        self._http_gateway: Any = None
        self._check_kafka_settings()

    def _check_kafka_settings(self) -> None:
        active = [m for m in self.mappings if m.enabled]
        if active and not self.options.kafka_bootstrap_servers:
            missing = [m.name for m in active if m.bootstrap_servers is None]
            if missing:
                raise TemplateError(missing[0], "MSK events need the local bootstrap servers "
                                                "(set KAFKA_BOOTSTRAP_SERVERS or --kafka-bootstrap-servers)")

    def _check_handlers(self) -> None:
        """A handler whose module cannot be found is a start-up error, not a failure on every invoke."""
        for spec in self.template.functions.values():
            module = spec.handler.rpartition(".")[0].replace(".", "/")
            roots = [spec.code_dir, *spec.layer_dirs]
            if not any((root / f"{module}.py").is_file() or (root / module / "__init__.py").is_file()
                       for root in roots):
                raise TemplateError(spec.logical_id, f"handler {spec.handler}: no module {module}.py in "
                                                     f"{', '.join(str(r) for r in roots)}")

    def _check_topics(self) -> None:
        from emulator.kafka.broker import existing_topics

        by_servers: dict[str, list[EventSourceMapping]] = {}
        for mapping in self.mappings:
            if mapping.enabled:
                servers = self.options.kafka_bootstrap_servers or mapping.bootstrap_servers or ""
                by_servers.setdefault(servers, []).append(mapping)
        for servers, mappings in by_servers.items():
            topics = existing_topics(servers)
            for mapping in mappings:
                for topic in filter(None, (mapping.topic, mapping.on_failure_topic)):
                    if topic not in topics:
                        raise TemplateError(mapping.name, f"topic {topic} does not exist on {servers}")

    # ------------------------------------------------------------------ start / stop

    def start(self) -> None:
        self._check_handlers()
        self._check_topics()
        self._start_servers()
        for mapping in self.mappings:
            self.board.declare(mapping.name, mapping.function.function_name, mapping.enabled)
            if mapping.enabled:
                self._slots.extend(_PollerSlot(mapping, i) for i in range(max(1, self.options.workers)))
        for slot in self._slots:
            self._start_poller(slot)
        for target in (self._watch_pollers, self._drain_reports):
            thread = threading.Thread(target=target, daemon=True, name=target.__name__)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for slot in self._slots:
            if slot.process is not None and slot.process.is_alive() and slot.process.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for slot in self._slots:
            if slot.process is not None:
                slot.process.join(timeout=max(0.1, deadline - time.monotonic()))
                if slot.process.is_alive():
                    slot.process.kill()
                    slot.process.join(timeout=5)
        self._stop_servers()
        for pool in self._pools.values():
            pool.close()
        with self._nudge_lock:
            for slot in self._slots:
                if slot.nudges is not None:
                    slot.nudges.close()
                    slot.nudges = None

    def retire_poller(self, pid: int) -> None:
        """Stop one poller for good (it leaves its group; the others take over its partitions)."""
        for slot in self._slots:
            if slot.process is not None and slot.process.pid == pid:
                self._slots.remove(slot)
                os.kill(pid, signal.SIGTERM)
                slot.process.join(timeout=STOP_GRACE_S)
                self._publish_workers()
                return
        raise ValueError(f"no poller with pid {pid}")

    def poller_pids(self, function_logical_id: str | None = None) -> list[int]:
        return [slot.process.pid for slot in self._slots
                if slot.process is not None and slot.process.pid is not None and slot.process.is_alive()
                and (function_logical_id is None or slot.mapping.function.logical_id == function_logical_id)]

    def status(self) -> dict[str, Any]:
        return self.board.snapshot()

    def refuse_writes(self, message: str | None) -> None:
        """The HTTP gateway answers writes 503 with `message` (None: takes them again); see drain."""
        if self._http_gateway is not None:
            self._http_gateway.refuse_writes(message)

    def lag(self) -> dict[str, int]:
        """Records each enabled mapping has not yet committed, read from the broker (not from the
        pollers' reports, which a sleeping poller sends only every few seconds)."""
        from emulator.kafka.broker import group_lag

        return {mapping.name: group_lag(self.options.kafka_bootstrap_servers or mapping.bootstrap_servers or "",
                                        mapping.consumer_group_id, mapping.topic,
                                        from_start=mapping.starting_position == "TRIM_HORIZON")
                for mapping in self.mappings if mapping.enabled}

    def nudge(self, topics: Iterable[str]) -> int:
        """Wake the pollers of these topics now: call it right after producing to them, so a sleeping
        poller fetches at once instead of at its next look (within LOOK_INTERVAL_S, 2 s). Cheap and non-blocking
        (a write to a pipe per poller); safe from any thread. Returns how many pollers were nudged."""
        wanted = {topics} if isinstance(topics, str) else set(topics)
        nudged = 0
        with self._nudge_lock:
            for slot in self._slots:
                if slot.mapping.topic not in wanted or slot.nudges is None:
                    continue
                try:
                    os.write(slot.nudges.fileno(), _NUDGE)
                except BlockingIOError:
                    pass  # the pipe is full: the poller has nudges waiting already
                except OSError:
                    continue  # the poller is gone; its successor looks by itself when it starts
                nudged += 1
        return nudged

    # ------------------------------------------------------------------ pollers

    def _poller_options(self, mapping: EventSourceMapping) -> dict[str, Any]:
        servers = self.options.kafka_bootstrap_servers or mapping.bootstrap_servers or ""
        extra_env = function_overrides(self.template, mapping.function.logical_id, self.env_file,
                                       self._endpoint_rewrites)
        return {"bootstrap_servers": servers, "region": self.options.region,
                "max_concurrency": self.options.max_concurrency,
                "session_timeout_ms": self.options.session_timeout_ms, "extra_env": extra_env,
                "warm_sandboxes": self.options.warm_sandboxes,
                **({} if self.options.look_interval_s is None else {"look_interval_s": self.options.look_interval_s})}

    def _start_poller(self, slot: _PollerSlot) -> None:
        mapping = slot.mapping
        reader, writer = self._context.Pipe(duplex=False)
        slot.process = self._context.Process(
            target=_poller_process,
            args=(str(self.template.path), self.options.parameter_overrides, mapping.function.logical_id,
                  mapping.event_name, self._poller_options(mapping), self._reports, reader, os.getpid()),
            name=f"esm:{mapping.name}#{slot.index}", daemon=False)
        slot.process.start()
        reader.close()
        os.set_blocking(writer.fileno(), False)
        with self._nudge_lock:
            previous, slot.nudges = slot.nudges, writer
        if previous is not None:
            previous.close()
        self._publish_workers()

    def _publish_workers(self) -> None:
        workers: dict[str, list[int]] = {}
        for slot in list(self._slots):
            if slot.process is not None and slot.process.pid is not None and slot.process.is_alive():
                workers.setdefault(slot.mapping.name, []).append(slot.process.pid)
        self.board.workers = workers

    def _watch_pollers(self) -> None:
        """Restart pollers that died (crash, kill -9) with a growing back-off. Sleeps until one dies (or
        a second passes: a restart may be due), not polling them."""
        while not self._stopping.is_set():
            sentinels = [slot.process.sentinel for slot in list(self._slots)
                         if slot.process is not None and slot.process.is_alive()]
            waiting = any(slot.next_start for slot in self._slots)
            multiprocessing.connection.wait(sentinels, timeout=0.2 if waiting else 1.0)
            if self._stopping.is_set():
                return
            for slot in list(self._slots):
                if slot.process is None or slot.process.is_alive() or self._stopping.is_set():
                    continue
                now = time.monotonic()
                if slot.next_start == 0.0:
                    slot.restarts += 1
                    self.board.restarts[slot.mapping.name] = self.board.restarts.get(slot.mapping.name, 0) + 1
                    slot.next_start = now + min(RESTART_BACKOFF_MAX_S, 0.5 * 2 ** min(slot.restarts - 1, 5))
                    logger.warning("poller died; restarting", extra={
                        "esm": slot.mapping.name, "exit_code": slot.process.exitcode, "restarts": slot.restarts})
                if now >= slot.next_start:
                    slot.next_start = 0.0
                    self._start_poller(slot)
            self._publish_workers()

    def _drain_reports(self) -> None:
        while not self._stopping.is_set():
            try:
                pid, report = self._reports.get(timeout=1.0)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            self.board.record(pid, report)

    # ------------------------------------------------------------------ HTTP servers

    def _start_servers(self) -> None:
        ready = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            loop = new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._open_sites())
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        thread = threading.Thread(target=serve, daemon=True, name="runtime-servers")
        thread.start()
        self._threads.append(thread)
        ready.wait()
        if errors:
            raise errors[0]

    async def _open_sites(self) -> None:
        host = self.options.host
        websocket_gateway = None
        if self._declares_websocket_api():
            from emulator.websocket.gateway import WebSocketGateway
            from emulator.websocket.spec import local_endpoint_rewrites

            ws_base = f"http://{host}:{self.options.websocket_port}"
            self._endpoint_rewrites = local_endpoint_rewrites(self.template, ws_base)
            self._pools.update(self._make_pools(self._websocket_function_ids()))
            websocket_gateway = WebSocketGateway(self.template, self._pools,
                                                 public_host=f"{host}:{self.options.websocket_port}")
        http_ids = [lid for lid, spec in self.template.functions.items() if spec.events_of_type("Api", "HttpApi")]
        if http_ids or self.options.static_dir is not None:
            from emulator.http.gateway import HttpApiGateway

            self._pools.update(self._make_pools(http_ids))
            http = HttpApiGateway(self.template, self._pools, static_dir=self.options.static_dir)
            self._http_gateway = http
            await self._serve(http.build_app(), self.options.http_port, "http")
        if websocket_gateway is not None:
            await self._serve(websocket_gateway.build_app(), self.options.websocket_port, "websocket")
        await self._serve(self._status_app(), self.options.status_port, "status")

    def _declares_websocket_api(self) -> bool:
        return any(res.type == "AWS::Serverless::WebSocketApi" or (
            res.type == "AWS::ApiGatewayV2::Api" and res.properties.get("ProtocolType") == "WEBSOCKET")
            for res in self.template.resources.values())

    def _websocket_function_ids(self) -> list[str]:
        from emulator.websocket.spec import websocket_apis

        return sorted({function_id for api in websocket_apis(self.template) for function_id in api.function_ids})

    def _make_pools(self, logical_ids: list[str]) -> dict[str, FunctionPool]:
        return {
            logical_id: FunctionPool(
                self.template.functions[logical_id], region=self.options.region,
                extra_env=function_overrides(self.template, logical_id, self.env_file, self._endpoint_rewrites),
                max_workers=self.options.api_workers)
            for logical_id in logical_ids if logical_id not in self._pools
        }

    async def _serve(self, app: web.Application, port: int, name: str) -> None:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.options.host, port, reuse_address=True)
        await site.start()
        self._runners.append(runner)
        scheme = "ws" if name == "websocket" else "http"
        self.urls[name] = f"{scheme}://{self.options.host}:{port}"

    def _status_app(self) -> web.Application:
        async def status(_request: web.Request) -> web.Response:
            return web.json_response(self.status())

        async def nudge(request: web.Request) -> web.Response:
            """POST /nudge?topic=a&topic=b (or a JSON body {"topics": [...]}): see Runtime.nudge."""
            topics = request.query.getall("topic", [])
            if request.can_read_body:
                try:
                    body = await request.json()
                except ValueError:
                    return web.json_response({"message": "the body must be JSON"}, status=400)
                listed = body.get("topics") if isinstance(body, dict) else None
                if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
                    return web.json_response({"message": 'the body must be {"topics": ["<topic>", ...]}'},
                                             status=400)
                topics = [*topics, *listed]
            return web.json_response({"nudged": self.nudge(topics)})

        app = web.Application()
        app.router.add_get("/status", status)
        app.router.add_post("/nudge", nudge)
        servers = self.options.kafka_bootstrap_servers or next(
            (m.bootstrap_servers for m in self.mappings if m.bootstrap_servers), None)
        OpsView(self.mappings, servers, self.status, self.nudge).add_routes(app)
        return app

    def _stop_servers(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def close() -> None:
            for runner in self._runners:
                await runner.cleanup()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
