"""Route modules (one Router each) and what they share: who the caller is, rate limits, body limits.

`admit(event)` runs before the resolver, on the raw API Gateway event, because Powertools validates
the request body before any middleware or dependency runs: checking credentials here answers a
request without them 401 (not a 400 that discusses its body), and refuses a flood before any
parsing. It is default-deny: every path but the auth routes and the docs needs an access token, so a
new route cannot be left open by forgetting a decorator. Routes get the caller's id through the
`Caller` dependency.

Every authenticated request takes one token from its user's bucket. Most take it here, before any
parsing; the routes in FOLDED_RATE_LIMIT take it themselves inside their own Redis round trip (the home
timeline's one script), through the `PendingTake` dependency. Such a token is never skipped: when the
route did not take it (a 400 before its read, an error), `app.handler` takes it after the resolver, and a
refusal then answers 429 instead.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

import deps
from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.request import Request
from errors import ApiError, too_many_requests, unauthorized

from kafkagram.auth import AccessClaims, AccessTokens, TokenError
from kafkagram.auth.ratelimit import (
    AUTH_PER_IP,
    READS_PER_USER,
    REFRESH_PER_IP,
    WRITES_PER_USER,
    Take,
    client_network,
)
from kafkagram.auth.tokens import LEEWAY_S

BEARER_SCHEME = "bearerAuth"
BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]  # the OpenAPI `security` of authenticated routes
CALLER_KEY = "caller_id"
TAKE_KEY = "rate_limit_take"
# (method, rawPath) of the routes that take the caller's token in their own Redis round trip.
FOLDED_RATE_LIMIT = frozenset({("GET", "/api/timeline")})
AUTH_PREFIX = "/api/auth/"
# Auth routes that prove a refresh token rather than guess a password: their own, larger bucket.
REFRESH_PATHS = frozenset({"/api/auth/refresh", "/api/auth/logout"})
PUBLIC_PATHS = frozenset({"/api/docs", "/api/openapi.json"})
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_AUTHORIZATION_LENGTH = 4096  # a real header is ~300 bytes; don't hand megabytes to the JWT parser
# Every request body here is a small JSON object; anything far larger is refused before parsing.
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
JSON_MEDIA_TYPE = "application/json"


@dataclass
class Admission:
    caller: int | None = None  # None on public paths
    refused: ApiError | None = None  # answer this instead
    deferred: Take | None = None  # the caller's token, for the route to take (FOLDED_RATE_LIMIT)


def admit(event: Mapping[str, Any]) -> Admission:
    """Who calls (None on public paths), and either the error to answer or the token still to take."""
    try:
        caller, deferred = _authenticate(event)
        _check_body(event)
    except ApiError as exc:
        return Admission(refused=exc)
    return Admission(caller, None, deferred)


def _authenticate(event: Mapping[str, Any]) -> tuple[int | None, Take | None]:
    path = str(event.get("rawPath") or "")
    http = (event.get("requestContext") or {}).get("http") or {}
    if path in PUBLIC_PATHS:
        return None, None
    if path.startswith(AUTH_PREFIX):
        # API Gateway's sourceIp is the TCP peer it saw; X-Forwarded-For is client-written and spoofable.
        _take(REFRESH_PER_IP if path in REFRESH_PATHS else AUTH_PER_IP, client_network(str(http.get("sourceIp") or "")))
        return None, None
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    user_id = _verify(str(headers.get("authorization") or ""))
    method = str(http.get("method") or "").upper()
    rule = READS_PER_USER if method in _READ_METHODS else WRITES_PER_USER
    if (method, path) in FOLDED_RATE_LIMIT:
        return user_id, deps.rate_limiter().take(rule, user_id)
    _take(rule, user_id)
    return user_id, None


def _verify(header: str) -> int:
    if not header:
        raise unauthorized("missing-token", "send Authorization: Bearer <access token>")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(header) > MAX_AUTHORIZATION_LENGTH:
        raise unauthorized("invalid-token", "the Authorization header must be Bearer <access token>")
    try:
        claims = _verified(deps.access_tokens(), token.strip())
        if time.time() >= claims.expires_at + LEEWAY_S:  # verified while valid, expired since (as PyJWT says)
            raise TokenError("expired", "access token expired")
    except TokenError as exc:
        raise unauthorized("token-expired" if exc.code == "expired" else "invalid-token", str(exc)) from exc
    if not claims.user_id.isdigit():
        raise unauthorized("invalid-token", "invalid access token")
    return int(claims.user_id)


@lru_cache(maxsize=4096)
def _verified(tokens: AccessTokens, token: str) -> AccessClaims:
    """Access tokens this sandbox has verified, kept until they are evicted: a client sends the same
    token with every request until it expires (15 minutes), and the signature check costs more than the
    rest of admission. Only valid tokens are kept (a refused one raises); expiry is checked on each use."""
    return tokens.verify(token)


def _take(rule: str, key: str | int) -> None:
    decision = deps.rate_limiter().check(rule, key)
    if not decision.allowed:
        raise too_many_requests(decision.retry_after_s)


def media_type(headers: Mapping[str, Any] | None) -> str | None:
    """The declared Content-Type without parameters, lower-cased (media types are case-insensitive,
    RFC 9110 8.3.1); None when the request declares none."""
    for name, value in (headers or {}).items():
        if str(name).lower() == "content-type":
            return str(value).split(";", 1)[0].strip().lower() or None
    return None


def reads_as_json(headers: Mapping[str, Any] | None) -> bool:
    """Whether a body is read as JSON: declared application/json, or not declared at all (every body
    here is JSON, and admission has checked it is)."""
    return media_type(headers) in (None, JSON_MEDIA_TYPE)


def _check_body(event: Mapping[str, Any]) -> None:
    """Refuse oversized or malformed JSON up front: json.loads on deeply nested arrays raises
    RecursionError, and a body that is not UTF-8 a UnicodeDecodeError in the resolver, both 500s.
    A body declared as another type is left alone: a route that reads one answers 415 (app.py)."""
    body = event.get("body")
    if not body:
        return
    if len(body) > MAX_BODY_BYTES * 2:  # checked before decoding too: base64 makes it 4/3 larger
        raise _too_large()
    raw: str | bytes = body
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "invalid-body", "the body is not valid base64") from None
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    if not reads_as_json(event.get("headers")):
        return
    try:
        # Strict UTF-8 (RFC 8259 8.1): json.loads would take bytes as UTF-16 or with encoded surrogates,
        # which the resolver then fails to decode.
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ApiError(400, "invalid-body", "the body is not valid UTF-8") from None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid-json", "the body is not valid JSON") from None
    if _depth(parsed) > MAX_JSON_DEPTH:
        raise ApiError(400, "invalid-json", "the body is nested too deeply")


def _too_large() -> ApiError:
    return ApiError(413, "payload-too-large", f"the body may have at most {MAX_BODY_BYTES} bytes")


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, stopping once past MAX_JSON_DEPTH (iterative: no recursion)."""
    stack, deepest = [(value, 1)], 0
    while stack and deepest <= MAX_JSON_DEPTH:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def caller_id(request: Request) -> int:
    """The id `admit` authenticated; a route outside its protection would have none (fail closed)."""
    caller = request.context.get(CALLER_KEY)
    if not isinstance(caller, int):
        raise unauthorized("missing-token", "send Authorization: Bearer <access token>")
    return caller


Caller = Annotated[int, Depends(caller_id)]


def caller_session(request: Request) -> str | None:
    """The refresh session of the caller's access token (its "sid"), None for a token without one.
    The token was verified by `admit`, so this is a cache hit of `_verified`."""
    caller_id(request)
    headers = {key.lower(): value for key, value in (request.headers or {}).items()}
    token = str(headers.get("authorization") or "").strip().partition(" ")[2]
    try:
        return _verified(deps.access_tokens(), token.strip()).session_id
    except TokenError:
        return None


CallerSession = Annotated[str | None, Depends(caller_session)]


def pending_take(request: Request) -> Take | None:
    """The caller's token, when `admit` left it to this route (FOLDED_RATE_LIMIT); None when taken."""
    take = request.context.get(TAKE_KEY)
    return take if isinstance(take, Take) else None


PendingTake = Annotated[Take | None, Depends(pending_take)]
