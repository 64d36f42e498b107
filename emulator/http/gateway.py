"""The local API Gateway: one aiohttp app serving every HTTP API and REST API route of a template.

A request is answered, in this order, by:
1. API Gateway's own CORS handling (HTTP API preflights; REST's mock OPTIONS method);
2. the most specific route (any route but `$default`), invoking its function;
3. a file of the static web app (GET/HEAD), when a static dir is given;
4. the HTTP API `$default` catch-all route;
5. the web app's index.html, for GET/HEAD of a client-side route (no file extension, not under
   assets/, no API route on the path) - the history-API fallback;
6. 405 when routes exist for the path under other methods, else 404.
While the runtime drains (`refuse_writes`), writes get 503 before any of this.
So real files win over `$default`, and `$default` wins over the client-route fallback.

Deviations from AWS, chosen for local development:
- Routes of all APIs share the server's root; REST stages are not in the URL (they are in
  requestContext.stage and requestContext.path).
- A path that exists under other methods answers 405 with `Allow` (AWS: HTTP APIs 404
  {"message":"Not Found"}, REST 403 {"message":"Missing Authentication Token"}).
- A function error, crash or invalid response answers 502 for both API kinds (AWS HTTP APIs
  answer 500 {"message":"Internal Server Error"}); REST keeps AWS's "Internal server error" text.
- The function's own Timeout, capped by the integration timeout (30 s HTTP API, 29 s REST, or the
  event's TimeoutInMillis) answers 504 {"message":"Endpoint request timed out"}; in AWS a
  function that hits its own Timeout first is a function error (502/500).
- Bad percent-encoding or non-UTF-8 in the path/query answers a JSON 400. Broken HTTP framing
  (invalid Content-Length, bad chunking, bad header bytes) is refused by aiohttp's parser before
  any app code runs: a text/plain 400 with the parser's message, no traceback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aws_lambda_powertools import Logger
from multidict import CIMultiDict

from emulator.http.access_log import AccessLog
from emulator.http.cors import CORS_HEADER_PREFIX
from emulator.http.events import (
    GatewayResponse,
    IncomingRequest,
    InvalidFunctionResponse,
    build_event,
    map_v1_response,
    map_v2_response,
    media_type,
    media_type_matches,
    now_utc,
)
from emulator.http.routes import Route, RouteMatch, RouteTable, build_route_table
from emulator.http.static import StaticSite
from emulator.http.target import MalformedRequest, RequestTarget, parse_target
from emulator.sandbox import AsyncInvoker, FunctionPool, Invocation, new_request_id
from emulator.template import Template

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload quota
_BODY_CHUNK_BYTES = 256 * 1024
_READ_METHODS = ("GET", "HEAD")
DRAINING_RETRY_AFTER_S = 30  # what a refused write is told while the runtime drains

logger = Logger(service="emulator.http")


@dataclass
class RequestTrace:
    """What the per-request log line reports, filled in as the request goes."""

    request_id: str
    started: float
    received_at: datetime
    path: str
    function: str | None = None
    lambda_request_id: str | None = None


TRACE_KEY = web.RequestKey("emulator.http.trace", RequestTrace)
INVOKERS_KEY = web.AppKey("emulator.http.invokers", dict[str, AsyncInvoker])


@dataclass
class GatewayError(Exception):
    """A response API Gateway produces itself, without reaching a function."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def _message_body(message: str) -> bytes:
    return json.dumps({"message": message}).encode()


def _json_message(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=_message_body(message), headers=headers,
                        content_type="application/json")


class HttpApiGateway:
    def __init__(self, template: Template, pools: Mapping[str, FunctionPool], *, static_dir: Path | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, access_log: AccessLog | None = None) -> None:
        self._template = template
        self._routes: RouteTable = build_route_table(template)
        missing = sorted({route.function_id for route in self._routes.routes} - set(pools))
        if missing:
            raise ValueError(f"no FunctionPool for routed functions: {', '.join(missing)}")
        self._pools = dict(pools)
        self._static = StaticSite(static_dir) if static_dir is not None else None
        self._max_body_bytes = max_body_bytes
        self._writes_refused: str | None = None
        self._access_log = access_log or AccessLog()

    def refuse_writes(self, message: str | None) -> None:
        """While the runtime drains: answer every request but GET, HEAD and OPTIONS with 503 and
        `message` (None takes writes again). Reads keep working while what is under way finishes."""
        self._writes_refused = message

    @property
    def has_routes(self) -> bool:
        return bool(self._routes.routes)

    def routes_summary(self) -> list[str]:
        return self._routes.summary()

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=self._max_body_bytes)
        # One per function, as large as its pool: a slow function queues its own requests only, never
        # another function's.
        app[INVOKERS_KEY] = {function_id: AsyncInvoker(self._pools[function_id])
                             for function_id in {route.function_id for route in self._routes.routes}}
        # [\s\S], not ".": a decoded %0A in the path must reach the gateway's own routing, not
        # aiohttp's plain-text 404.
        app.router.add_route("*", r"/{tail:[\s\S]*}", self._handle)
        app.on_response_prepare.append(_access_logger(self._access_log))
        return app

    # ------------------------------------------------------------------------------------------------
    # Request flow

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        trace = RequestTrace(request_id=new_request_id(), started=time.perf_counter(), received_at=now_utc(),
                             path=request.raw_path.split("?", 1)[0])
        request[TRACE_KEY] = trace
        try:
            return await self._dispatch(request, trace)
        except GatewayError as error:
            # The connection stays open: aiohttp drains an unread body (lingering) so the client,
            # still uploading, gets to read this answer.
            return _json_message(error.status, error.message, {**error.headers, "apigw-requestid": trace.request_id})
        except Exception:  # a gateway bug must never reach the client as a traceback
            logger.exception("gateway failure", extra={"request_id": trace.request_id})
            return _json_message(500, "Internal Server Error")

    async def _dispatch(self, request: web.Request, trace: RequestTrace) -> web.StreamResponse:
        try:
            target = parse_target(request.raw_path)
        except MalformedRequest as error:
            raise GatewayError(400, f"Bad Request: {error}") from None
        self._check_declared_length(request)
        method = request.method.upper()
        if self._writes_refused is not None and method not in (*_READ_METHODS, "OPTIONS"):
            raise GatewayError(503, self._writes_refused, {"Retry-After": str(DRAINING_RETRY_AFTER_S)})
        preflight = self._cors_preflight(request, method, target)
        if preflight is not None:
            return preflight
        match = self._routes.match(method, target.segments)
        if match is not None:
            return await self._invoke(request, target, match, trace)
        static_response = self._static_response(method, target)
        if static_response is not None:
            return static_response
        default = self._routes.default_route
        if default is not None and default.allows(method):
            return await self._invoke(request, target, RouteMatch(default, {}), trace)
        allowed = self._routes.allowed_methods(target.segments)
        if allowed:
            raise GatewayError(405, "Method Not Allowed", {"Allow": ", ".join(sorted(allowed))})
        fallback = self._client_route_fallback(request, method, target)
        if fallback is not None:
            return fallback
        raise GatewayError(404, "Not Found")

    def _check_declared_length(self, request: web.Request) -> None:
        if request.content_length is not None and request.content_length > self._max_body_bytes:
            raise GatewayError(413, "Request Entity Too Large")

    def _static_response(self, method: str, target: RequestTarget) -> web.FileResponse | None:
        if self._static is None or method not in _READ_METHODS:
            return None
        file = self._static.file_for(target.segments)
        return self._static.response(file) if file is not None else None

    def _client_route_fallback(self, request: web.Request, method: str,
                               target: RequestTarget) -> web.FileResponse | None:
        """index.html for a client-side route of the web app (history-API fallback)."""
        navigation = "text/html" in request.headers.get("Accept", "")
        if (self._static is None or method not in _READ_METHODS
                or not self._static.is_client_route(target.segments, navigation)):
            return None
        index = self._static.index_file()
        return self._static.response(index) if index is not None else None

    def _cors_preflight(self, request: web.Request, method: str, target: RequestTarget) -> web.Response | None:
        if method != "OPTIONS":
            return None
        matches = self._routes.path_matches(target.segments)
        route = matches[0].route if matches else self._routes.default_route
        if route is None:
            return None
        http_cors, rest_cors = route.api.http_cors, route.api.rest_cors
        origin = request.headers.get("Origin")
        requested_method = request.headers.get("Access-Control-Request-Method")
        if http_cors is not None and origin is not None and requested_method is not None:
            requested_headers = request.headers.get("Access-Control-Request-Headers", "")
            return web.Response(status=204, headers=http_cors.preflight_headers(origin, requested_method,
                                                                                 requested_headers))
        # SAM adds a mock OPTIONS method to each REST path, unless the path declares OPTIONS itself.
        if rest_cors is not None and matches and not any(m.route.method == "OPTIONS" for m in matches):
            methods = self._routes.allowed_methods(target.segments)
            return web.Response(status=200, headers=rest_cors.options_headers(methods))
        return None

    async def _read_body(self, request: web.Request) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(_BODY_CHUNK_BYTES):
            size += len(chunk)
            if size > self._max_body_bytes:
                raise GatewayError(413, "Request Entity Too Large")
            chunks.append(chunk)
        return b"".join(chunks)

    # ------------------------------------------------------------------------------------------------
    # Integration

    async def _invoke(self, request: web.Request, target: RequestTarget, match: RouteMatch,
                      trace: RequestTrace) -> web.Response:
        route = match.route
        trace.function = route.function_id
        body = await self._read_body(request)
        event = build_event(route, match.path_parameters, self._incoming(request, target, body, trace),
                            self._template.account_id)
        invocation = await self._run_function(request.app, route, event, trace)
        return self._client_response(route, self._integration_response(route, invocation, request, trace),
                                     request, trace)

    def _incoming(self, request: web.Request, target: RequestTarget, body: bytes,
                  trace: RequestTrace) -> IncomingRequest:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        port = sockname[1] if isinstance(sockname, tuple) else (request.url.port or 80)
        return IncomingRequest(
            method=request.method.upper(),
            raw_path=target.raw_path,
            path=target.path,
            raw_query=target.raw_query,
            query=target.query,
            headers=list(request.headers.items()),
            body=body,
            source_ip=request.remote or "127.0.0.1",
            protocol=f"HTTP/{request.version.major}.{request.version.minor}",
            host=request.host,
            server_port=port,
            request_id=trace.request_id,
            received_at=trace.received_at,
        )

    async def _run_function(self, app: web.Application, route: Route, event: dict[str, Any],
                            trace: RequestTrace) -> Invocation:
        pool = self._pools[route.function_id]
        timeout = min(pool.spec.timeout, route.integration_timeout)
        trace.lambda_request_id = new_request_id()
        try:
            return await app[INVOKERS_KEY][route.function_id].invoke(event, request_id=trace.lambda_request_id,
                                                                     timeout=timeout)
        except RuntimeError as error:  # the pool is shutting down
            failure = {"errorType": "Runtime.Unavailable", "errorMessage": str(error), "stackTrace": []}
            return Invocation(trace.lambda_request_id, "error", None, failure, 0.0)

    def _integration_response(self, route: Route, invocation: Invocation, request: web.Request,
                              trace: RequestTrace) -> GatewayResponse:
        log_fields = {"request_id": trace.request_id, "lambda_request_id": invocation.request_id,
                      "function": route.function_id, "route": route.route_key}
        if invocation.outcome == "timeout":
            logger.warning("integration timed out", extra={**log_fields, **(invocation.error or {})})
            return _gateway_response(504, "Endpoint request timed out")
        if not invocation.ok:
            logger.error("function failed", extra={**log_fields, "outcome": invocation.outcome,
                                                   **(invocation.error or {})})
            return _gateway_response(502, _internal_error_message(route))
        try:
            if route.payload_version == "2.0":
                return map_v2_response(invocation.payload)
            return map_v1_response(invocation.payload, _base64_policy(route, request))
        except InvalidFunctionResponse as error:
            logger.error("invalid function response", extra={**log_fields, "reason": str(error)})
            return _gateway_response(502, _internal_error_message(route))

    def _client_response(self, route: Route, response: GatewayResponse, request: web.Request,
                         trace: RequestTrace) -> web.Response:
        headers: CIMultiDict[str] = CIMultiDict(response.headers)
        cors = route.api.http_cors
        if cors is not None:
            # With CORS configured, HTTP APIs drop the function's CORS headers and add their own.
            for name in {n.lower() for n in headers if n.lower().startswith(CORS_HEADER_PREFIX)}:
                headers.popall(name, None)
            for name, value in cors.response_headers(request.headers.get("Origin")).items():
                headers.add(name, value)
        headers["apigw-requestid" if route.api.kind == "http" else "x-amzn-RequestId"] = trace.request_id
        return web.Response(status=response.status, body=response.body, headers=headers)


def _gateway_response(status: int, message: str) -> GatewayResponse:
    return GatewayResponse(status, [("Content-Type", "application/json")], _message_body(message))


def _internal_error_message(route: Route) -> str:
    return "Internal Server Error" if route.api.kind == "http" else "Internal server error"


def _base64_policy(route: Route, request: web.Request) -> Callable[[str | None], bool]:
    """HTTP APIs always decode a base64 body; REST only when the response's Content-Type or the
    request's first Accept type is one of the API's binaryMediaTypes (else the client gets base64 text)."""
    if route.api.kind == "http":
        return lambda _content_type: True
    binary_types = route.api.binary_media_types
    accepted = media_type(request.headers.get("Accept", "").split(",", 1)[0])

    def decode(content_type: str | None) -> bool:
        return any(media_type_matches(kind, binary_types) for kind in (media_type(content_type), accepted) if kind)

    return decode


def _access_logger(access_log: AccessLog) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """The line is written as the response is prepared: a file's status (304, 206) is known only then."""
    async def log_request(request: web.Request, response: web.StreamResponse) -> None:
        trace = request.get(TRACE_KEY)
        if not isinstance(trace, RequestTrace):
            return
        access_log.write({
            "method": request.method,
            "path": trace.path,
            "status": response.status,
            "duration_ms": round((time.perf_counter() - trace.started) * 1000, 2),
            "function": trace.function,
            "request_id": trace.request_id,
            "lambda_request_id": trace.lambda_request_id,
        })

    return log_request
