"""The WebSocket API's routes: `$connect` (token auth), `$disconnect` and `ping`.

They keep the connection registry (`kafkagram.connections`) that the push handler reads:
- `$connect`: the access token comes in the `token` query parameter (browsers cannot set headers on
  a WebSocket); missing or invalid, or its refresh session ended (logout, password change) -> 401 and
  API Gateway refuses the upgrade. Rate-limited per client network and per user, and capped at
  MAX_WS_CONNECTIONS_PER_USER open connections per user: 429 with Retry-After (API Gateway refuses a
  `$connect` that answers non-2xx). The connection is recorded with the token's session ("sid"), so
  ending the session closes it;
- `$disconnect`: forget the connection (best effort: AWS may skip it, hence the keys' TTL);
- `ping` (`{"action": "ping"}`): refresh the keys' TTL and answer `{"type": "pong"}` through the
  management API. A connection the registry forgot (its keys expired) is closed instead, so the
  client reconnects and registers again rather than silently missing its pushes; so is one whose
  session has ended (should the API have failed to close it).
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.auth import AccessTokens, RateLimiter, RefreshSessions, TokenError, ensure_secret_usable
from kafkagram.auth.ratelimit import (
    MAX_WS_CONNECTIONS_PER_USER,
    WS_CONNECT_PER_IP,
    WS_CONNECT_PER_USER,
    Decision,
    client_network,
)
from kafkagram.clients import Clients
from kafkagram.config import get_settings

logger = Logger()
clients = Clients()  # Redis, and the connection registry on it, made at the first event


@cache
def _tokens() -> AccessTokens:
    secret = get_settings().auth_token_secret
    ensure_secret_usable(secret)  # the local default secret must not authenticate anyone on AWS
    return AccessTokens(secret)


@cache
def _management() -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WEBSOCKET_ENDPOINT"])


def _limiter() -> RateLimiter:
    return RateLimiter(clients.redis, prefix=clients.key_prefix)  # cheap: scripts are registered by hash


def _sessions() -> RefreshSessions:
    return RefreshSessions(clients.redis, prefix=clients.key_prefix)


def _source_ip(event: dict[str, Any]) -> str:
    return str(((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or "")


def _too_many(retry_after_s: int, message: str) -> dict[str, Any]:
    return {"statusCode": 429, "headers": {"Content-Type": "application/json", "Retry-After": str(retry_after_s)},
            "body": json.dumps({"error": "rate-limited", "message": message})}


def _refused(decision: Decision) -> dict[str, Any]:
    return _too_many(decision.retry_after_s, f"too many connection attempts; retry in {decision.retry_after_s} s")


def _connection_id(event: dict[str, Any]) -> str:
    return str(event["requestContext"]["connectionId"])


def _unauthorized(code: str, message: str) -> dict[str, Any]:
    return {"statusCode": 401, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"error": code, "message": message})}


@logger.inject_lambda_context
def connect(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Per network first: it needs no token, so a flood of bad tokens is refused before any verify.
    by_network = _limiter().check(WS_CONNECT_PER_IP, client_network(_source_ip(event)))
    if not by_network.allowed:
        return _refused(by_network)
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        return _unauthorized("unauthorized", "the token query parameter is required")
    try:
        claims = _tokens().verify(token)
    except TokenError as error:
        return _unauthorized(error.code, str(error))
    user_id = int(claims.user_id)
    by_user = _limiter().check(WS_CONNECT_PER_USER, user_id)
    if not by_user.allowed:
        return _refused(by_user)
    # Tokens of an ended session (logout, password change) still verify until they expire; not here.
    if claims.session_id is not None and not _sessions().is_live(claims.session_id):
        return _unauthorized("session-ended", "the session of this token has ended; log in again")
    if not clients.registry.register(user_id, _connection_id(event), claims.session_id,
                                     max_per_user=MAX_WS_CONNECTIONS_PER_USER):
        # Retry-After: a connection closes when a tab does; a minute is a fair guess, not a promise.
        return _too_many(60, f"at most {MAX_WS_CONNECTIONS_PER_USER} open connections per user; close one")
    logger.info("connected", extra={"user_id": claims.user_id, "connection_id": _connection_id(event)})
    return {"statusCode": 200}


@logger.inject_lambda_context
def disconnect(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    user_id = clients.registry.unregister(_connection_id(event))
    logger.info("disconnected", extra={"user_id": user_id, "connection_id": _connection_id(event)})
    return {"statusCode": 200}


@logger.inject_lambda_context
def ping(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connection_id = _connection_id(event)
    client = _management()
    owner = clients.registry.owner_of(connection_id)
    try:
        if owner is not None and owner[1] is not None and not _sessions().is_live(owner[1]):
            client.delete_connection(ConnectionId=connection_id)  # its session ended; $disconnect forgets it
        elif clients.registry.refresh(connection_id) is None:
            client.delete_connection(ConnectionId=connection_id)
        else:
            client.post_to_connection(ConnectionId=connection_id, Data=b'{"type": "pong"}')
    except client.exceptions.GoneException:  # closed while we answered: $disconnect cleans up
        pass
    return {"statusCode": 200}
