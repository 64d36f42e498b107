"""A local API Gateway WebSocket API: real WebSocket endpoint plus its `@connections` management API.

- `$connect` runs before the upgrade: a non-2xx `statusCode` (or a failed invocation) answers the
  handshake with that HTTP status, so clients see e.g. 401; a returned `Sec-WebSocket-Protocol` is used.
- Messages are routed by the API's selection expression; non-JSON, binary and unmatched messages go to
  `$default`. Each message is its own invocation, run concurrently as AWS does. Routes are one-way unless
  they declare a `RouteResponseSelectionExpression`.
- `$disconnect` fires once when either side closes, with the close status and reason.
- AWS quotas, configurable: message size (bigger closes with 1009), idle timeout and maximum
  connection duration (both close with 1001 "Going away"); server pings keep half-open sockets honest.

The first WebSocket API of the template is served at `/` and `/<stage>`; any further ones at
`/<logical id>/<stage>`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Coroutine, Mapping
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web
from aws_lambda_powertools import Logger
from multidict import CIMultiDict

from emulator.sandbox import AsyncInvoker, FunctionPool, Invocation
from emulator.template import Template
from emulator.websocket.connections import GOING_AWAY, Connection
from emulator.websocket.events import (
    ConnectionFacts,
    connect_event,
    disconnect_event,
    epoch_ms,
    forwarding_headers,
    message_event,
    new_id,
)
from emulator.websocket.management import ConnectionsApi
from emulator.websocket.spec import (
    CONNECT_ROUTE,
    DISCONNECT_ROUTE,
    RouteSpec,
    WebSocketApiSpec,
    api_at,
    websocket_apis,
)

logger = Logger(service="emulator.websocket")

DEFAULT_HEARTBEAT_S = 30.0
_MIN_CLIENT_MAX_SIZE = 1024 * 1024
_FAILED_INVOCATION_STATUS = {"timeout": 504}  # a raised error or a crashed sandbox answers 502
# Headers a `$connect` function may not override: the upgrade response owns them.
_HANDSHAKE_HEADERS = frozenset({"sec-websocket-protocol", "sec-websocket-accept", "sec-websocket-extensions",
                                "upgrade", "connection", "content-length", "transfer-encoding"})


class WebSocketGateway:
    def __init__(self, template: Template, pools: Mapping[str, FunctionPool], *,
                 public_host: str = "127.0.0.1:3001", idle_timeout_s: float = 600,
                 max_connection_s: float = 7200, max_message_bytes: int = 128 * 1024,
                 heartbeat_s: float | None = DEFAULT_HEARTBEAT_S) -> None:
        self._apis = websocket_apis(template)
        self._pools = pools
        route_functions = {function_id for api in self._apis for function_id in api.function_ids}
        missing = route_functions - set(pools)
        if missing:
            raise ValueError(f"no FunctionPool for WebSocket route function(s): {', '.join(sorted(missing))}")
        self.public_host = public_host
        self.idle_timeout_s = idle_timeout_s
        self.max_connection_s = max_connection_s
        self.max_message_bytes = max_message_bytes
        self.heartbeat_s = heartbeat_s
        self._connections: dict[str, Connection] = {}
        self._background: set[asyncio.Task[None]] = set()
        # One per function, as large as its pool: a busy function never starves another one.
        self._invokers = {function_id: AsyncInvoker(pools[function_id]) for function_id in route_functions}
        self._management = ConnectionsApi(self._connections, self._apis, max_message_bytes, self._log_management)

    @property
    def has_apis(self) -> bool:
        return bool(self._apis)

    @property
    def apis(self) -> list[WebSocketApiSpec]:
        return list(self._apis)

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=max(_MIN_CLIENT_MAX_SIZE, 2 * self.max_message_bytes))
        self._management.add_routes(app.router)  # before the upgrade routes: `/@connections/x` is 2 segments
        for path in ("/", "/{stage}", "/{mount}/{stage}"):
            app.router.add_get(path, self._upgrade)
        app.on_shutdown.append(self._close_all)
        app.on_cleanup.append(self._finish_background)
        return app

    # -- connection lifecycle ------------------------------------------------------------------------

    async def _upgrade(self, request: web.Request) -> web.StreamResponse:
        api = api_at(self._apis, request.match_info.get("mount"), request.match_info.get("stage"))
        if api is None:
            return web.json_response({"message": "Forbidden"}, status=403)
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.Response(status=426, text="Upgrade Required")
        facts = self._facts(api, request)
        started = time.monotonic()
        accepted, protocol, rejection = await self._run_connect(api, facts, request)
        self._log("connect", facts, CONNECT_ROUTE, rejection.status if rejection else 200, started)
        if rejection is not None:
            return rejection
        ws = self._websocket(protocol, accepted)
        try:
            await ws.prepare(request)
        except ConnectionResetError:  # the client gave up while `$connect` ran: no connection, no $disconnect
            self._log("abandoned", facts, CONNECT_ROUTE, 499, started)
            return ws  # aiohttp sees the lost transport again and finishes quietly
        await self._serve(Connection(facts=facts, api=api, ws=ws))
        return ws

    def _websocket(self, protocol: str | None, extra_headers: Mapping[str, str]) -> web.WebSocketResponse:
        # No permessage-deflate: it costs CPU per frame, and no AWS source says API Gateway offers it.
        ws = web.WebSocketResponse(protocols=(protocol,) if protocol else (), heartbeat=self.heartbeat_s,
                                   max_msg_size=self.max_message_bytes, compress=False)
        for name, value in extra_headers.items():
            ws.headers[name] = value
        return ws

    async def _serve(self, connection: Connection) -> None:
        """Route the connection's messages until it closes, then fire `$disconnect`."""
        self._connections[connection.id] = connection
        try:
            last_message = await self._receive_until_closed(connection)
        finally:
            del self._connections[connection.id]
        await self._run_disconnect(connection, *connection.ending(last_message))

    def _facts(self, api: WebSocketApiSpec, request: web.Request) -> ConnectionFacts:
        return ConnectionFacts(
            connection_id=new_id(), api_id=api.api_id, stage=api.stage, domain_name=self.public_host,
            source_ip=request.remote or "127.0.0.1", user_agent=request.headers.get("User-Agent"),
            connected_at=epoch_ms(),
        )

    async def _run_connect(self, api: WebSocketApiSpec, facts: ConnectionFacts, request: web.Request
                           ) -> tuple[dict[str, str], str | None, web.Response | None]:
        """(extra handshake headers, subprotocol, rejection response or None) from the `$connect` route."""
        route = api.routes.get(CONNECT_ROUTE)
        if route is None:
            return {}, None, None
        headers = CIMultiDict(request.headers)
        headers.extend(forwarding_headers(request.headers, facts.source_ip, self.public_host))
        request_id = new_id()
        invocation = await self._invoke(route, connect_event(facts, request_id, headers, request.rel_url.query),
                                        request_id)
        status, returned_headers, body = _proxy_response(invocation)
        if not 200 <= status < 300:
            return {}, None, web.Response(status=status, text=body)
        protocol = next((v for k, v in returned_headers.items() if k.lower() == "sec-websocket-protocol"), None)
        extra = {k: v for k, v in returned_headers.items() if k.lower() not in _HANDSHAKE_HEADERS}
        return extra, protocol, None

    async def _receive_until_closed(self, connection: Connection) -> WSMessage | None:
        """Dispatch data frames until the connection closes; returns the last frame (CLOSE tells how)."""
        ws = connection.ws
        while not ws.closed:
            wait_s = connection.seconds_left(self.idle_timeout_s, self.max_connection_s)
            if wait_s <= 0:
                await connection.close(*GOING_AWAY)
                return None
            try:
                message = await ws.receive(timeout=wait_s)
            except TimeoutError:
                continue  # the deadline may have moved (a POST counts as activity): re-check it
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                connection.touch()
                self._spawn(self._handle_message(connection, message))
            else:
                # aiohttp records 1006 once it has closed an oversized message's socket; remember why.
                error_code = getattr(message.data, "code", None)
                if message.type == WSMsgType.ERROR and error_code == WSCloseCode.MESSAGE_TOO_BIG:
                    connection.server_close = (int(WSCloseCode.MESSAGE_TOO_BIG), "Message too big")
                return message
        return None

    async def _run_disconnect(self, connection: Connection, status_code: int, reason: str) -> None:
        route = connection.api.routes.get(DISCONNECT_ROUTE)
        started = time.monotonic()
        status = 200
        if route is not None:
            request_id = new_id()
            event = disconnect_event(connection.facts, request_id, status_code, reason)
            invocation = await self._invoke(route, event, request_id)
            status = _proxy_response(invocation)[0]
        self._log("disconnect", connection.facts, DISCONNECT_ROUTE, status, started,
                  disconnectStatusCode=status_code, disconnectReason=reason)

    # -- messages -------------------------------------------------------------------------------------

    async def _handle_message(self, connection: Connection, message: WSMessage) -> None:
        started = time.monotonic()
        request_id = new_id()
        is_binary = message.type == WSMsgType.BINARY
        body = base64.b64encode(message.data).decode("ascii") if is_binary else str(message.data)
        api = connection.api
        route = api.message_route(None if is_binary else api.selector.select(body))
        if route is None:  # no route matched and there is no $default: AWS answers with this frame
            await self._reply(connection, _error_frame("Forbidden", connection, request_id))
            self._log("message", connection.facts, None, 403, started)
            return
        invocation = await self._invoke(route, message_event(connection.facts, route.route_key, request_id,
                                                             body, is_binary), request_id)
        status, _, response_body = _proxy_response(invocation)
        if not invocation.ok:
            await self._reply(connection, _error_frame("Internal server error", connection, request_id))
        elif route.two_way and response_body:
            await self._reply(connection, response_body)
        self._log("message", connection.facts, route.route_key, status, started)

    async def _reply(self, connection: Connection, text: str) -> None:
        if not connection.open:
            return
        try:
            await connection.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            return  # closed while the integration ran: nothing to deliver to
        connection.touch()

    # -- plumbing -------------------------------------------------------------------------------------

    async def _invoke(self, route: RouteSpec, event: dict[str, Any], request_id: str) -> Invocation:
        try:
            return await self._invokers[route.function_id].invoke(event, request_id=request_id)
        except Exception as exc:  # a closed pool during shutdown: an integration failure
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": []}
            return Invocation(request_id, "error", None, error, 0.0)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)  # keep a reference until done, or the task may be collected
        task.add_done_callback(self._background.discard)

    async def _close_all(self, _app: web.Application) -> None:
        await asyncio.gather(*(conn.close(*GOING_AWAY) for conn in list(self._connections.values())),
                             return_exceptions=True)

    async def _finish_background(self, _app: web.Application) -> None:
        if self._background:
            await asyncio.wait(list(self._background), timeout=5)

    def _log(self, action: str, facts: ConnectionFacts, route_key: str | None, status: int, started: float,
             **fields: Any) -> None:
        logger.info(action, extra={
            "connectionId": facts.connection_id, "apiId": facts.api_id, "routeKey": route_key,
            "status": status, "duration_ms": round((time.monotonic() - started) * 1000, 2), **fields,
        })

    def _log_management(self, connection: Connection, method: str, status: int) -> None:
        # A push path sends thousands a second: a line each would cost a quarter of this process's CPU
        # (measured with py-spy) and drown the console, so only refusals are logged at info.
        log = logger.debug if status < 400 else logger.info
        log("manage", extra={"connectionId": connection.id, "method": method, "status": status})


def _proxy_response(invocation: Invocation) -> tuple[int, dict[str, str], str]:
    """(statusCode, headers, body) of a Lambda proxy result; a failed invocation is 502/504.

    A successful invocation without a statusCode counts as 200, as API Gateway treats a `$connect`
    function that returns nothing.
    """
    if not invocation.ok:
        return _FAILED_INVOCATION_STATUS.get(invocation.outcome, 502), {}, "Internal server error"
    payload = invocation.payload
    if not isinstance(payload, dict):
        return 200, {}, "" if payload is None else json.dumps(payload)
    headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
    body = payload.get("body")
    if payload.get("isBase64Encoded") and isinstance(body, str):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    text = body if isinstance(body, str) else ("" if body is None else json.dumps(body))
    try:
        status = int(payload.get("statusCode", 200))
    except (TypeError, ValueError):
        status = 502  # a malformed proxy response is an integration failure
    return (status if 100 <= status <= 599 else 502), headers, text


def _error_frame(message: str, connection: Connection, request_id: str) -> str:
    return json.dumps({"message": message, "connectionId": connection.id, "requestId": request_id})
