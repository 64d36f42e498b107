"""The API function as a WSGI application, for tools that drive an HTTP app in-process (Schemathesis):
each request becomes the payload 2.0 event the local gateway builds (emulator.http's target parsing,
route table and event builder), `app.handler` runs in this process against real PostgreSQL and Redis,
and its result is mapped back to HTTP as the gateway maps it.

Every request comes from its own client network, as many clients would: the per-network auth rate
limit then never refuses a generated case before the API has looked at it.
"""

from __future__ import annotations

import http
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from emulator.http.events import IncomingRequest, build_v2_event, map_v2_response, now_utc
from emulator.http.routes import RouteTable, build_route_table
from emulator.http.target import MalformedRequest, parse_target
from emulator.template import Template
from tests.support.api import API_DIR

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_ENVIRON_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


@dataclass
class LambdaWsgi:
    template: Template
    before_request: Callable[[], None] = lambda: None  # e.g. refill a rate-limit bucket
    requests: int = 0  # how many reached the function
    statuses: dict[int, int] = field(default_factory=dict)  # status -> how many
    _routes: RouteTable | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            target = parse_target(str(environ.get("RAW_URI") or environ.get("PATH_INFO") or "/"))
        except MalformedRequest as exc:  # the gateway's own 400, before any function runs
            return _respond(start_response, 400, [("Content-Type", "application/json")],
                            f'{{"message": "{exc}"}}'.encode())
        method = str(environ["REQUEST_METHOD"]).upper()
        match = self.routes.match(method, target.segments)
        if match is None:
            return _respond(start_response, 404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        incoming = IncomingRequest(
            method=method, raw_path=target.raw_path, path=target.path, raw_query=target.raw_query,
            query=target.query, headers=_headers(environ), body=body, source_ip=_client_ip(), protocol="HTTP/1.1",
            host="127.0.0.1:3000", server_port=3000, request_id=str(uuid.uuid4()), received_at=now_utc())
        event = build_v2_event(match.route, match.path_parameters, incoming, "000000000000")
        self.before_request()
        response = map_v2_response(_handler()(event, None))
        self.requests += 1
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        return _respond(start_response, response.status, response.headers, response.body)

    @property
    def routes(self) -> RouteTable:
        if self._routes is None:
            self._routes = build_route_table(self.template)
        return self._routes


def _handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    assert API_DIR.is_dir()  # tests.support.api put it on sys.path: the function's modules are top-level
    import app

    return app.handler


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [(name, str(environ[key])) for key, name in _ENVIRON_HEADERS.items() if environ.get(key)]
    return headers + [(key[5:].replace("_", "-").title(), str(value)) for key, value in environ.items()
                      if key.startswith("HTTP_")]


def _client_ip() -> str:
    # Not the `random` module: Hypothesis seeds it alike for every example, which made every request one client.
    octets = secrets.token_bytes(3)
    return f"10.{octets[0]}.{octets[1]}.{octets[2] % 254 + 1}"


def _respond(start_response: StartResponse, status: int, headers: list[tuple[str, str]],
             body: bytes) -> list[bytes]:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    start_response(f"{status} {reason}", [(k, v) for k, v in headers if k.lower() != "content-length"])
    return [body]
