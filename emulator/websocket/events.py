"""The Lambda proxy events API Gateway sends for a WebSocket API: CONNECT, MESSAGE and DISCONNECT.

Shapes follow AWS's samples (Powertools `apiGatewayWebSocketApi{Connect,Message,Disconnect}.json`):
epoch-millisecond `connectedAt`/`requestTimeEpoch`, CLF `requestTime`, and ids that look like AWS's
(11 random bytes in URL-safe base64, e.g. `BFaT_fALIAMCKug=`).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from multidict import MultiMapping

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def new_id() -> str:
    """An id in the form AWS uses for connection, request and message ids."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode("ascii")


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


def clf_time(epoch_millis: int) -> str:
    """`requestTime` as AWS writes it: `11/Nov/2024:11:35:24 +0000` (no locale dependence)."""
    moment = datetime.fromtimestamp(epoch_millis / 1000, UTC)
    return f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def iso8601(epoch_millis: int) -> str:
    """The management API's timestamp form, parsed by botocore into a datetime."""
    moment = datetime.fromtimestamp(epoch_millis / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class ConnectionFacts:
    """What every event of one connection repeats in its requestContext."""

    connection_id: str
    api_id: str
    stage: str
    domain_name: str
    source_ip: str
    user_agent: str | None
    connected_at: int  # epoch ms

    def request_context(self, route_key: str, event_type: str, request_id: str) -> dict[str, Any]:
        now = epoch_ms()
        identity: dict[str, str] = {"sourceIp": self.source_ip}
        if self.user_agent:
            identity["userAgent"] = self.user_agent
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": clf_time(now),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": self.connected_at,
            "requestTimeEpoch": now,
            "identity": identity,
            "requestId": request_id,
            "domainName": self.domain_name,
            "connectionId": self.connection_id,
            "apiId": self.api_id,
        }


def connect_event(facts: ConnectionFacts, request_id: str, headers: MultiMapping[str],
                  query: MultiMapping[str]) -> dict[str, Any]:
    """`$connect`: the upgrade request's headers and query string; no body."""
    event: dict[str, Any] = {
        "headers": {name: headers.getall(name)[-1] for name in _unique(headers.keys(), fold_case=True)},
        "multiValueHeaders": {name: list(headers.getall(name)) for name in _unique(headers.keys(), fold_case=True)},
    }
    if query:  # AWS omits the query keys when the URL has no query string
        names = _unique(query.keys(), fold_case=False)
        event["queryStringParameters"] = {name: query.getall(name)[-1] for name in names}
        event["multiValueQueryStringParameters"] = {name: list(query.getall(name)) for name in names}
    event["requestContext"] = facts.request_context("$connect", "CONNECT", request_id)
    event["isBase64Encoded"] = False
    return event


def message_event(facts: ConnectionFacts, route_key: str, request_id: str, body: str,
                  is_base64: bool) -> dict[str, Any]:
    context = facts.request_context(route_key, "MESSAGE", request_id)
    context["messageId"] = new_id()
    return {"requestContext": context, "body": body, "isBase64Encoded": is_base64}


def disconnect_event(facts: ConnectionFacts, request_id: str, status_code: int, reason: str) -> dict[str, Any]:
    """`$disconnect`: AWS sends only a few headers, and the close status and reason."""
    headers = {"Host": facts.domain_name, "x-api-key": "", "X-Forwarded-For": facts.source_ip, "x-restapi": ""}
    context = facts.request_context("$disconnect", "DISCONNECT", request_id)
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    return {
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def forwarding_headers(headers: Mapping[str, str], source_ip: str, public_host: str) -> dict[str, str]:
    """The X-Forwarded-* headers API Gateway adds to `$connect`, unless the client sent them."""
    port = public_host.rpartition(":")[2] if ":" in public_host else "80"
    added = {"X-Forwarded-For": source_ip, "X-Forwarded-Port": port, "X-Forwarded-Proto": "http"}
    return {name: value for name, value in added.items() if name not in headers}


def _unique(names: Iterable[str], *, fold_case: bool) -> list[str]:
    """Each name once, in first-seen spelling (header names compare case-insensitively)."""
    first_spelling: dict[str, str] = {}
    for name in names:
        first_spelling.setdefault(name.lower() if fold_case else name, name)
    return list(first_spelling.values())
