"""Request -> Lambda proxy event, and Lambda result -> HTTP response, as API Gateway maps them.

Payload 2.0 (HTTP API default) and 1.0 (REST APIs, and HTTP API routes with PayloadFormatVersion
"1.0") follow the API Gateway developer guide ("Create AWS Lambda proxy integrations for HTTP
APIs", "Set up Lambda proxy integrations" for REST).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulator.http.routes import Route

DEFAULT_CONTENT_TYPE = "application/json"
# Text media types API Gateway hands to functions as plain strings (HTTP APIs base64 everything else).
_TEXT_MEDIA_TYPES = frozenset({
    "application/json", "application/javascript", "application/x-javascript", "application/ecmascript",
    "application/xml", "application/xhtml+xml", "application/graphql", "application/yaml",
    "application/x-yaml", "application/x-ndjson",
})
_V1_RESPONSE_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
# Framing headers belong to the connection, which the gateway owns, not to the function.
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade"})
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_BAD_HEADER_VALUE = re.compile(r"[\r\n\x00]")


@dataclass(frozen=True)
class IncomingRequest:
    """What the gateway read from the client, already checked for well-formedness."""

    method: str
    raw_path: str  # percent-encoded, as sent
    path: str  # percent-decoded
    raw_query: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]  # original names and order, duplicates kept
    body: bytes
    source_ip: str
    protocol: str  # "HTTP/1.1"
    host: str
    server_port: int
    request_id: str
    received_at: datetime


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class InvalidFunctionResponse(ValueError):
    """The function's result is not a valid proxy response: API Gateway answers 502."""


# ----------------------------------------------------------------------------------------------------
# Request -> event


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_text_media_type(content_type: str | None) -> bool:
    kind = media_type(content_type)
    return kind.startswith("text/") or kind in _TEXT_MEDIA_TYPES or kind.endswith(("+json", "+xml"))


def media_type_matches(kind: str, patterns: Iterable[str]) -> bool:
    """`image/png` against `image/png`, `image/*` or `*/*`, as binaryMediaTypes are matched."""
    major = kind.split("/", 1)[0]
    return any(p in (kind, "*/*", f"{major}/*") for p in patterns)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def should_base64_request_body(route: Route, body: bytes, content_type: str | None) -> bool:
    """HTTP APIs pass text types as text and base64 the rest; REST APIs base64 the binaryMediaTypes.

    A body that is not UTF-8 is always base64-encoded: a JSON event cannot carry it otherwise
    (REST without a matching binaryMediaType would mangle it in AWS).
    """
    if not _is_utf8(body):
        return True
    if route.api.kind == "rest":
        return media_type_matches(media_type(content_type), route.api.binary_media_types)
    return not is_text_media_type(content_type)


def _encoded_body(route: Route, request: IncomingRequest) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    content_type = next((v for k, v in request.headers if k.lower() == "content-type"), None)
    if should_base64_request_body(route, request.body, content_type):
        return base64.b64encode(request.body).decode("ascii"), True
    return request.body.decode("utf-8"), False


def _forwarded_headers(request: IncomingRequest) -> list[tuple[str, str]]:
    """API Gateway adds X-Forwarded-For/-Port/-Proto, appending the client to any proxy chain."""
    previous = [v for k, v in request.headers if k.lower() == "x-forwarded-for"]
    chain = ", ".join([*previous, request.source_ip])
    kept = [(k, v) for k, v in request.headers if k.lower() not in ("x-forwarded-for", "x-forwarded-port",
                                                                    "x-forwarded-proto")]
    return [*kept, ("X-Forwarded-For", chain), ("X-Forwarded-Port", str(request.server_port)),
            ("X-Forwarded-Proto", "http")]


def _request_time(received_at: datetime) -> str:
    return received_at.strftime("%d/%b/%Y:%H:%M:%S +0000")


def _epoch_ms(received_at: datetime) -> int:
    return int(received_at.timestamp() * 1000)


def _header(request: IncomingRequest, name: str) -> str:
    return next((v for k, v in request.headers if k.lower() == name), "")


def _domain_prefix(host: str) -> str:
    return host.split(":", 1)[0].split(".", 1)[0]


def build_v2_event(route: Route, path_parameters: dict[str, str], request: IncomingRequest,
                   account_id: str) -> dict[str, Any]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in _forwarded_headers(request):
        key = name.lower()
        if key == "cookie":  # payload 2.0 moves cookies out of the headers
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for key, value in request.query:
        query[key] = f"{query[key]},{value}" if key in query else value
    body, is_base64 = _encoded_body(route, request)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": account_id,
            "apiId": route.api.api_id,
            "domainName": request.host,
            "domainPrefix": _domain_prefix(request.host),
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request.request_id,
            "routeKey": route.route_key,
            "stage": route.api.stage,
            "time": _request_time(request.received_at),
            "timeEpoch": _epoch_ms(request.received_at),
        },
        "isBase64Encoded": is_base64,
    }
    # Like API Gateway, leave out what the request did not have rather than sending empty values.
    optional = {"cookies": cookies, "queryStringParameters": query, "pathParameters": path_parameters,
                "stageVariables": route.api.stage_variables, "body": body}
    event.update({key: value for key, value in optional.items() if value})
    return event


def build_v1_event(route: Route, path_parameters: dict[str, str], request: IncomingRequest,
                   account_id: str) -> dict[str, Any]:
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in _forwarded_headers(request):
        headers[name] = value  # the last value wins, as in API Gateway
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for key, value in request.query:
        query[key] = value
        multi_query.setdefault(key, []).append(value)
    body, is_base64 = _encoded_body(route, request)
    resource = route.path
    event: dict[str, Any] = {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": route.api.stage_variables or None,
        "requestContext": _v1_request_context(route, request, account_id),
        "body": body,
        "isBase64Encoded": is_base64,
    }
    if route.api.kind == "http":
        event = {"version": "1.0", **event}
    return event


def _v1_request_context(route: Route, request: IncomingRequest, account_id: str) -> dict[str, Any]:
    stage = route.api.stage
    # REST's context path carries the stage, as on the execute-api domain; the local URL does not.
    context_path = request.path if route.api.kind == "http" or stage == "$default" else f"/{stage}{request.path}"
    identity_fields = ("accessKey", "accountId", "caller", "cognitoAuthenticationProvider",
                       "cognitoAuthenticationType", "cognitoIdentityId", "cognitoIdentityPoolId",
                       "principalOrgId", "user", "userArn")
    identity: dict[str, Any] = dict.fromkeys(identity_fields)
    identity.update({"sourceIp": request.source_ip, "userAgent": _header(request, "user-agent")})
    return {
        "accountId": account_id,
        "apiId": route.api.api_id,
        "domainName": request.host,
        "domainPrefix": _domain_prefix(request.host),
        "extendedRequestId": request.request_id,
        "httpMethod": request.method,
        "identity": identity,
        "path": context_path,
        "protocol": request.protocol,
        "requestId": request.request_id,
        "requestTime": _request_time(request.received_at),
        "requestTimeEpoch": _epoch_ms(request.received_at),
        "resourceId": route.api.api_id[:6],
        "resourcePath": route.path,
        "stage": stage,
    }


def build_event(route: Route, path_parameters: dict[str, str], request: IncomingRequest,
                account_id: str) -> dict[str, Any]:
    build = build_v2_event if route.payload_version == "2.0" else build_v1_event
    return build(route, path_parameters, request, account_id)


def now_utc() -> datetime:
    return datetime.now(UTC)


# ----------------------------------------------------------------------------------------------------
# Function result -> response


def _status_code(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidFunctionResponse(f"statusCode must be an integer, not {type(value).__name__}")
    try:
        status = int(value)
    except ValueError:
        raise InvalidFunctionResponse(f"statusCode {value!r} is not an integer") from None
    if not 200 <= status <= 599:  # 1xx would break the HTTP exchange the gateway owns
        raise InvalidFunctionResponse(f"statusCode {status} is out of range")
    return status


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str | int | float):
        raise InvalidFunctionResponse(f"header value {value!r} is not a string")
    return str(value)


def _checked_header(name: Any, value: Any) -> tuple[str, str]:
    text = _header_value(value)
    if not isinstance(name, str) or not _HEADER_NAME.match(name) or _BAD_HEADER_VALUE.search(text):
        raise InvalidFunctionResponse(f"invalid header {name!r}")
    return name, text


def _single_headers(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise InvalidFunctionResponse("headers must be an object")
    return [_checked_header(name, item) for name, item in value.items() if item is not None]


def _multi_headers(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise InvalidFunctionResponse("multiValueHeaders must map names to lists")
    return [_checked_header(name, item) for name, items in value.items() for item in items if item is not None]


def _body_bytes(body: Any, is_base64: Any, decode_base64: bool) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise InvalidFunctionResponse(f"body must be a string, not {type(body).__name__}")
    if not isinstance(is_base64, bool):
        raise InvalidFunctionResponse("isBase64Encoded must be a boolean")
    if is_base64 and decode_base64:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidFunctionResponse("isBase64Encoded is true but body is not base64") from None
    return body.encode("utf-8")


def _finish(status: int, headers: list[tuple[str, str]], body: bytes) -> GatewayResponse:
    kept = [(name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP]
    if not any(name.lower() == "content-type" for name, _ in kept):
        kept.append(("Content-Type", DEFAULT_CONTENT_TYPE))
    if status in (204, 304):
        body = b""
    return GatewayResponse(status, kept, body)


def map_v2_response(payload: Any) -> GatewayResponse:
    """Payload 2.0: a dict with statusCode is a response; anything else is the JSON body of a 200."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        text = payload if isinstance(payload, str) else json.dumps(payload)
        return _finish(200, [("Content-Type", DEFAULT_CONTENT_TYPE)], text.encode("utf-8"))
    status = _status_code(payload["statusCode"])
    headers = _single_headers(payload.get("headers"))
    cookies = payload.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise InvalidFunctionResponse("cookies must be a list of strings")
    headers += [_checked_header("Set-Cookie", cookie) for cookie in cookies]
    return _finish(status, headers, _body_bytes(payload.get("body"), payload.get("isBase64Encoded", False),
                                                decode_base64=True))


def map_v1_response(payload: Any, decode_base64: Callable[[str | None], bool]) -> GatewayResponse:
    """Payload 1.0: statusCode, headers, multiValueHeaders, body, isBase64Encoded and nothing else.

    `decode_base64(content_type)` says whether a base64 body reaches the client decoded (REST APIs
    do so only for their binaryMediaTypes).
    """
    if not isinstance(payload, dict):
        raise InvalidFunctionResponse(f"a 1.0 response must be an object, not {type(payload).__name__}")
    unknown = set(payload) - _V1_RESPONSE_KEYS
    if unknown:
        raise InvalidFunctionResponse(f"unexpected response keys {sorted(unknown)}")
    if "statusCode" not in payload:
        raise InvalidFunctionResponse("statusCode is missing")
    status = _status_code(payload["statusCode"])
    multi = _multi_headers(payload.get("multiValueHeaders"))
    # Where both name a header, only the multiValueHeaders values are kept.
    multi_names = {name.lower() for name, _ in multi}
    headers = [h for h in _single_headers(payload.get("headers")) if h[0].lower() not in multi_names] + multi
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    body = _body_bytes(payload.get("body"), payload.get("isBase64Encoded", False), decode_base64(content_type))
    return _finish(status, headers, body)
