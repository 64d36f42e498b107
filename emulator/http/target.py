"""The request target (path and query), read strictly: a malformed one is the client's error (400)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class MalformedRequest(ValueError):
    """The client sent something API Gateway would refuse with 400 Bad Request."""


@dataclass(frozen=True)
class RequestTarget:
    raw_path: str  # percent-encoded, as sent
    raw_query: str
    segments: list[str]  # decoded path segments; a trailing slash adds none
    query: list[tuple[str, str]]  # decoded, in order, blanks kept

    @property
    def path(self) -> str:
        return "/" + "/".join(self.segments)


def _decode(text: str, what: str) -> str:
    if _STRAY_PERCENT.search(text):
        raise MalformedRequest(f"malformed percent-encoding in the {what}")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise MalformedRequest(f"the {what} does not decode to UTF-8") from None


def _query(raw_query: str) -> list[tuple[str, str]]:
    if _STRAY_PERCENT.search(raw_query):
        raise MalformedRequest("malformed percent-encoding in the query string")
    try:
        return parse_qsl(raw_query, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise MalformedRequest("the query string does not decode to UTF-8") from None


def parse_target(raw_target: str) -> RequestTarget:
    """Split and decode `/a%20b/c?x=1&x=2` (or an absolute-form `http://host/a?x`)."""
    if raw_target.startswith(("http://", "https://")):
        split = urlsplit(raw_target)
        raw_path, raw_query = split.path or "/", split.query
    else:
        raw_path, _, raw_query = raw_target.partition("?")
    raw_path = raw_path.split("#", 1)[0]
    if not raw_path.startswith("/"):
        raise MalformedRequest("the request target must be an absolute path")
    # Split before decoding so an encoded "/" (%2F) stays inside its segment.
    segments = [_decode(part, "path") for part in raw_path.split("/")[1:]]
    if segments and not segments[-1]:
        segments.pop()
    return RequestTarget(raw_path=raw_path, raw_query=raw_query, segments=segments, query=_query(raw_query))
