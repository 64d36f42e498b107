"""The `@connections` management API, as boto3's `apigatewaymanagementapi` client calls it.

Served on the gateway's own server at `/@connections/{id}`, `/{stage}/@connections/{id}` and
`/{api}/{stage}/@connections/{id}`, so `endpoint_url="http://127.0.0.1:PORT/<stage>"` works unchanged.
Requests are SigV4-signed by boto3; any credentials are accepted locally. Errors are rest-json as AWS
sends them: the `x-amzn-ErrorType` header names the exception botocore raises (e.g. GoneException).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from aiohttp import web

from emulator.websocket.connections import Connection
from emulator.websocket.events import iso8601, new_id
from emulator.websocket.spec import WebSocketApiSpec, api_at

_PREFIXES = ("", "/{stage}", "/{mount}/{stage}")
_CLOSED_BY_DELETE = (1000, "")


class ConnectionsApi:
    def __init__(self, connections: Mapping[str, Connection], apis: list[WebSocketApiSpec],
                 max_message_bytes: int, on_activity: Callable[[Connection, str, int], None]) -> None:
        self._connections = connections
        self._apis = apis
        self._max_message_bytes = max_message_bytes
        self._on_activity = on_activity  # (connection, method, status) -> log line

    def add_routes(self, router: web.UrlDispatcher) -> None:
        for prefix in _PREFIXES:
            router.add_route("*", prefix + "/@connections/{connection_id}", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method not in ("POST", "GET", "DELETE"):
            return _error(405, "MethodNotAllowedException", f"{request.method} is not supported")
        scoped_to_stage = "stage" in request.match_info
        api = api_at(self._apis, request.match_info.get("mount"), request.match_info.get("stage"))
        if scoped_to_stage and api is None:
            return _error(403, "ForbiddenException", "Forbidden")
        if request.method == "POST" and (request.content_length or 0) > self._max_message_bytes:
            return _payload_too_large()
        connection = self._connections.get(request.match_info["connection_id"])
        if connection is None or not connection.open or (scoped_to_stage and connection.api is not api):
            return _gone()
        response = await self._dispatch(request, connection)
        self._on_activity(connection, request.method, response.status)
        return response

    async def _dispatch(self, request: web.Request, connection: Connection) -> web.StreamResponse:
        if request.method == "POST":
            return await self._post(request, connection)
        if request.method == "GET":
            return _json(200, _describe(connection))
        await connection.close(*_CLOSED_BY_DELETE)
        return web.Response(status=204, headers=_request_id_header())

    async def _post(self, request: web.Request, connection: Connection) -> web.StreamResponse:
        data = await request.read()
        if len(data) > self._max_message_bytes:  # a chunked body has no Content-Length to check first
            return _payload_too_large()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        try:
            if text is None:
                await connection.ws.send_bytes(data)
            else:
                await connection.ws.send_str(text)
        except (ConnectionError, RuntimeError):  # the client went away while we were sending
            return _gone()
        connection.touch()
        return web.Response(status=200, headers=_request_id_header())


def _describe(connection: Connection) -> dict[str, object]:
    identity: dict[str, str] = {"sourceIp": connection.facts.source_ip}
    if connection.facts.user_agent:
        identity["userAgent"] = connection.facts.user_agent
    return {
        "connectedAt": iso8601(connection.facts.connected_at),
        "identity": identity,
        "lastActiveAt": iso8601(connection.last_active_ms),
    }


def _request_id_header() -> dict[str, str]:
    return {"x-amzn-RequestId": new_id()}


def _json(status: int, body: object, error_type: str | None = None) -> web.Response:
    headers = _request_id_header()
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)


def _error(status: int, error_type: str, message: str | None) -> web.Response:
    return _json(status, {"message": message}, error_type)


def _gone() -> web.Response:
    return _error(410, "GoneException", None)  # AWS's body is literally {"message": null}


def _payload_too_large() -> web.Response:
    return _error(413, "PayloadTooLargeException", "Request entity too large")
