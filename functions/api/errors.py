"""Every error leaves the API as JSON `{"error": code, "message": text}` with the right status.

Codes are stable kebab-case strings clients may branch on; messages are for people. Anything not
anticipated is logged and answered 500 with no detail (no stack traces or SQL to the client).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import redis
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from kafkagram.auth import PasswordPolicyError, TokenError
from kafkagram.auth.ratelimit import RateLimited
from kafkagram.store import DomainError

logger = logging.getLogger(__name__)

_TOKEN_CODES = {"expired": "token-expired", "invalid": "invalid-token", "reused": "refresh-token-reused"}


class ApiError(Exception):
    """An error the HTTP layer itself raises (auth, rate limits, request shape)."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def unauthorized(code: str, message: str) -> ApiError:
    # RFC 6750 3: a 401 for a bearer-protected resource names the scheme.
    return ApiError(401, code, message, {"WWW-Authenticate": 'Bearer realm="kafkagram"'})


def too_many_requests(retry_after_s: int) -> ApiError:
    return ApiError(429, "rate-limited", f"too many requests; retry in {retry_after_s} s",
                    {"Retry-After": str(retry_after_s)})


def unsupported_media_type(declared: str) -> ApiError:
    return ApiError(415, "unsupported-media-type", f"this route expects application/json, not {declared}")


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps({"error": code, "message": message}), headers=dict(headers or {}))


def error_result(error: ApiError) -> dict[str, Any]:
    """The API Gateway proxy result for an error raised before the resolver runs."""
    return {"statusCode": error.status, "isBase64Encoded": False, "body": json.dumps(
        {"error": error.code, "message": error.message}),
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **error.headers}}


def validation_message(errors: Sequence[Any]) -> str:
    """The first problem, with the field it is about ("body.username: ..." -> "username: ...")."""
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    where, field = (loc[0], ".".join(loc[1:])) if loc else ("", "")
    message = str(first.get("msg", "invalid value"))
    if where == "body" and not field:
        return f"request body: {message}"
    if where in ("query", "path", "header"):
        return f"{field} ({where}): {message}"
    return f"{field or where}: {message}"


def register(app: APIGatewayHttpResolver, allowed_methods: Callable[[str], list[str]]) -> None:
    """Attach the exception handlers and the JSON 404 and 405 to the resolver; `allowed_methods(path)`
    names the methods the resolver routes for a path (none: the path is unknown)."""

    @app.exception_handler(RequestValidationError)
    def on_validation(exc: RequestValidationError) -> Response:
        # Powertools answers 422; a malformed request is a 400 here, as for every other bad input.
        return error_response(400, "invalid-request", validation_message(exc.errors()))

    @app.exception_handler(RateLimited)
    def on_rate_limited(exc: RateLimited) -> Response:
        # A route that takes the caller's token in its own round trip (routes.FOLDED_RATE_LIMIT).
        error = too_many_requests(exc.decision.retry_after_s)
        return error_response(error.status, error.code, error.message, error.headers)

    @app.exception_handler(redis.exceptions.ConnectionError)
    def on_redis_unreachable(exc: redis.exceptions.ConnectionError) -> Response:
        # As `app.handler` answers when admission cannot reach Redis (its TimeoutError is one of these).
        logger.exception("Redis unreachable")
        return error_response(503, "unavailable", "the service is unavailable; retry shortly")

    @app.exception_handler(ApiError)
    def on_api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(DomainError)
    def on_domain_error(exc: DomainError) -> Response:
        if exc.http_status == 401:
            error = unauthorized(exc.code, exc.message)
            return error_response(error.status, error.code, error.message, error.headers)
        return error_response(exc.http_status, exc.code, exc.message)

    @app.exception_handler(PasswordPolicyError)
    def on_password_policy(exc: PasswordPolicyError) -> Response:
        return error_response(400, exc.code.replace("_", "-"), str(exc))

    @app.exception_handler(TokenError)
    def on_token_error(exc: TokenError) -> Response:
        error = unauthorized(_TOKEN_CODES.get(exc.code, "invalid-token"), str(exc))
        return error_response(error.status, error.code, error.message, error.headers)

    @app.not_found
    def on_not_found(exc: Exception) -> Response:
        # A path that exists under other methods is a 405 naming them (RFC 9110 15.5.6), not a 404.
        allowed = allowed_methods(app.current_event.path)
        if not allowed:
            return error_response(404, "not-found", "no such route")
        method = app.current_event.http_method.upper()
        return error_response(405, "method-not-allowed", f"{method} is not allowed here; allowed: {', '.join(allowed)}",
                              {"Allow": ", ".join(allowed)})

    @app.exception_handler(Exception)
    def on_unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        status = HTTPStatus.INTERNAL_SERVER_ERROR
        return error_response(status, "internal-error", "something went wrong on our side")
