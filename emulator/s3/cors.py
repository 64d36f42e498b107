"""Bucket CORS rules for the responses the front writes itself (form POST results/errors, preflights).

The backend applies bucket CORS to the requests it answers, but not to its POST-object response,
and never sees the errors the front produces; so the front reads the bucket's rules
(GetBucketCors) and evaluates them the way S3 does. It answers preflights (OPTIONS) itself too:
backends differ there (moto refuses object-level preflights, s3rver answers `*` for any origin).
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@dataclass(frozen=True)
class CorsRule:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    expose_headers: tuple[str, ...] = ()
    max_age: str | None = None
    allowed_headers: tuple[str, ...] = ()


def parse_cors_configuration(document: bytes) -> list[CorsRule]:
    root = ET.fromstring(document)
    return [_parse_rule(rule) for rule in root.iter(f"{S3_NS}CORSRule")]


def _parse_rule(rule: ET.Element) -> CorsRule:
    def texts(tag: str) -> tuple[str, ...]:
        return tuple((item.text or "") for item in rule.iter(f"{S3_NS}{tag}"))

    max_age = rule.find(f"{S3_NS}MaxAgeSeconds")
    return CorsRule(
        origins=texts("AllowedOrigin"),
        methods=texts("AllowedMethod"),
        expose_headers=texts("ExposeHeader"),
        max_age=max_age.text if max_age is not None else None,
        allowed_headers=texts("AllowedHeader"),
    )


def origin_allowed(origin: str, pattern: str) -> bool:
    # S3 allows at most one "*" wildcard in an AllowedOrigin.
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), origin) is not None


def header_allowed(header: str, pattern: str) -> bool:
    # AllowedHeader names compare case-insensitively and may hold one "*" wildcard too.
    return origin_allowed(header.lower(), pattern.lower())


def matching_rule(rules: list[CorsRule], origin: str, method: str) -> CorsRule | None:
    """S3 uses the first rule that allows both the origin and the method."""
    for rule in rules:
        if method in rule.methods and any(origin_allowed(origin, p) for p in rule.origins):
            return rule
    return None


def preflight_rule(
    rules: list[CorsRule], origin: str, method: str, request_headers: list[str]
) -> CorsRule | None:
    """The first rule allowing the origin, the method and every requested header (S3's preflight)."""
    for rule in rules:
        if (
            method in rule.methods
            and any(origin_allowed(origin, p) for p in rule.origins)
            and all(any(header_allowed(h, p) for p in rule.allowed_headers) for h in request_headers)
        ):
            return rule
    return None


def response_headers(rule: CorsRule, origin: str) -> dict[str, str]:
    wildcard = "*" in rule.origins
    headers = {
        "Access-Control-Allow-Origin": "*" if wildcard else origin,
        "Access-Control-Allow-Methods": ", ".join(rule.methods),
        "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    }
    if not wildcard:
        headers["Access-Control-Allow-Credentials"] = "true"
    if rule.expose_headers:
        headers["Access-Control-Expose-Headers"] = ", ".join(rule.expose_headers)
    if rule.max_age is not None:
        headers["Access-Control-Max-Age"] = rule.max_age
    return headers


class CorsCache:
    """Per-bucket rules, refetched after `ttl` seconds so PutBucketCors takes effect soon."""

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[list[CorsRule]]],
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, list[CorsRule]]] = {}

    async def rules(self, bucket: str) -> list[CorsRule]:
        entry = self._entries.get(bucket)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        rules = await self._fetch(bucket)
        self._entries[bucket] = (self._clock() + self._ttl, rules)
        return rules

    async def headers_for(self, bucket: str, origin: str | None, method: str) -> dict[str, str]:
        if not origin:
            return {}
        rule = matching_rule(await self.rules(bucket), origin, method)
        return response_headers(rule, origin) if rule else {}
