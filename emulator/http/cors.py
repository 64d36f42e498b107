"""CORS as API Gateway applies it.

HTTP APIs (`CorsConfiguration`): API Gateway answers every preflight itself, adds the configured
headers to integration responses for an allowed `Origin`, and drops CORS headers the function set.
REST APIs (`Cors`): SAM adds a mock `OPTIONS` method to each path that returns the configured
headers; proxy responses are left as the function wrote them (the function must add its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from emulator.template import TemplateError

ALL_HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
CORS_HEADER_PREFIX = "access-control-"


def _string_list(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        return tuple(str(item) for item in value)
    raise TemplateError(where, f"CORS {key} must be a list of strings")


@dataclass(frozen=True)
class HttpApiCors:
    """`AWS::Serverless::HttpApi.CorsConfiguration`."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int | None
    allow_credentials: bool

    @classmethod
    def from_config(cls, config: Any, where: str) -> HttpApiCors | None:
        if config is None or config is False:
            return None
        if config is True:  # SAM's shorthand: any origin
            return cls(("*",), (), (), (), None, False)
        if not isinstance(config, Mapping):
            raise TemplateError(where, "CorsConfiguration must be true or a mapping")
        max_age = config.get("MaxAge")
        return cls(
            allow_origins=_string_list(config.get("AllowOrigins"), where, "AllowOrigins"),
            allow_methods=tuple(m.upper() for m in _string_list(config.get("AllowMethods"), where, "AllowMethods")),
            allow_headers=tuple(h.lower() for h in _string_list(config.get("AllowHeaders"), where, "AllowHeaders")),
            expose_headers=_string_list(config.get("ExposeHeaders"), where, "ExposeHeaders"),
            max_age=int(max_age) if max_age is not None else None,
            allow_credentials=bool(config.get("AllowCredentials", False)),
        )

    def origin_allowed(self, origin: str) -> bool:
        return any(pattern == "*" or fnmatchcase(origin, pattern) for pattern in self.allow_origins)

    def preflight_headers(self, origin: str, requested_method: str, requested_headers: str) -> dict[str, str]:
        """Headers of API Gateway's own preflight answer; none when the origin or method is not allowed."""
        method_allowed = "*" in self.allow_methods or requested_method.upper() in self.allow_methods
        if not self.origin_allowed(origin) or not method_allowed:
            return {}
        headers = self._origin_headers(origin)
        if self.allow_methods:
            # A literal "*" is no wildcard for credentialed requests: name the requested method instead.
            wildcard = "*" in self.allow_methods
            headers["Access-Control-Allow-Methods"] = (
                requested_method.upper() if wildcard else ",".join(self.allow_methods)
            )
        if self.allow_headers:
            wildcard = "*" in self.allow_headers
            allowed = requested_headers if wildcard else ",".join(self.allow_headers)
            if allowed:
                headers["Access-Control-Allow-Headers"] = allowed
        if self.max_age is not None:
            headers["Access-Control-Max-Age"] = str(self.max_age)
        return headers

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """Headers added to an integration response for a cross-origin request."""
        if origin is None or not self.origin_allowed(origin):
            return {}
        headers = self._origin_headers(origin)
        if self.expose_headers:
            headers["Access-Control-Expose-Headers"] = ",".join(self.expose_headers)
        return headers

    def _origin_headers(self, origin: str) -> dict[str, str]:
        any_origin = "*" in self.allow_origins and not self.allow_credentials
        headers = {"Access-Control-Allow-Origin": "*" if any_origin else origin}
        if not any_origin:
            headers["Vary"] = "Origin"
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers


def _unquote(value: Any) -> str:
    """REST `Cors` values are API Gateway literals wrapped in single quotes ("'*'")."""
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    return text


@dataclass(frozen=True)
class RestApiCors:
    """`AWS::Serverless::Api.Cors`: answered by a mock OPTIONS method, never added to proxy responses."""

    allow_origin: str
    allow_methods: str | None
    allow_headers: str | None
    max_age: str | None
    allow_credentials: bool

    @classmethod
    def from_config(cls, config: Any, where: str) -> RestApiCors | None:
        if config is None:
            return None
        if isinstance(config, str):
            return cls(_unquote(config), None, None, None, False)
        if not isinstance(config, Mapping) or "AllowOrigin" not in config:
            raise TemplateError(where, "Cors must be an origin string or a mapping with AllowOrigin")

        def optional(key: str) -> str | None:
            return _unquote(config[key]) if config.get(key) is not None else None

        return cls(
            allow_origin=_unquote(config["AllowOrigin"]),
            allow_methods=optional("AllowMethods"),
            allow_headers=optional("AllowHeaders"),
            max_age=optional("MaxAge"),
            allow_credentials=bool(config.get("AllowCredentials", False)),
        )

    def options_headers(self, path_methods: Iterable[str]) -> dict[str, str]:
        """What SAM's mock OPTIONS integration returns; methods default to the path's own plus OPTIONS."""
        methods = self.allow_methods or ",".join(sorted({*path_methods, "OPTIONS"}))
        headers = {"Access-Control-Allow-Origin": self.allow_origin, "Access-Control-Allow-Methods": methods}
        if self.allow_headers:
            headers["Access-Control-Allow-Headers"] = self.allow_headers
        if self.max_age:
            headers["Access-Control-Max-Age"] = self.max_age
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers
