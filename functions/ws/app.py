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
  session has ended (should the API have failed to close it). It also renews the connection's watches;
- `watch` / `unwatch` (`{"action": "watch", "post_ids": ["123", ...]}`): the posts on the client's
  screen, whose like and comment counts PostStatsFunction then sends as `post-stats-updated`
  (`kafkagram.watchers`). At most MAX_POST_IDS_PER_MESSAGE ids, each a 64-bit id as a string of
  digits (JavaScript numbers lose precision above 2**53). A connection watches the posts its user may
  see (any published post, and the user's own pending ones), at most MAX_WATCHED_POSTS at once: a
  watch past the cap adds none of its posts. `watch` is a two-way route: its reply is a
  `post-stats-updated` frame with the current counts of the posts it added (so the client starts from
  the final state, after a reconnection too), or a `watch-refused` frame saying why. `unwatch` is
  one-way; `$disconnect` ends every watch of the connection.
"""

from __future__ import annotations

import json
import os
import re
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
from kafkagram.events.catalog import ID_PATTERN
from kafkagram.flows.post_stats import stats_frame
from kafkagram.store.pagination import MAX_ID
from kafkagram.store.posts import post_stats
from kafkagram.watchers import MAX_POST_IDS_PER_MESSAGE, MAX_WATCHED_POSTS

logger = Logger()
clients = Clients()  # Redis, and the connection registry on it, made at the first event
_ID = re.compile(ID_PATTERN)


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
    clients.watchers.forget([_connection_id(event)])
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
            clients.watchers.refresh(connection_id)  # a screen may stay put longer than the TTL
            client.post_to_connection(ConnectionId=connection_id, Data=b'{"type": "pong"}')
    except client.exceptions.GoneException:  # closed while we answered: $disconnect cleans up
        pass
    return {"statusCode": 200}


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _post_ids(event: dict[str, Any]) -> list[int]:
    """The message's `post_ids`: 1 to MAX_POST_IDS_PER_MESSAGE 64-bit ids written as strings of digits."""
    try:
        body = json.loads(event.get("body") or "")
    except ValueError:
        body = None
    ids = body.get("post_ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_POST_IDS_PER_MESSAGE:
        raise _Refused(400, "invalid-message", f"post_ids must be a list of 1 to {MAX_POST_IDS_PER_MESSAGE} ids")
    if not all(isinstance(i, str) and _ID.match(i) and int(i) <= MAX_ID for i in ids):
        raise _Refused(400, "invalid-message", "each post id is a string of digits (a 64-bit id)")
    return list(dict.fromkeys(int(i) for i in ids))


def _refusal(action: str, refused: _Refused) -> dict[str, Any]:
    return {"statusCode": refused.status, "body": json.dumps({"type": "watch-refused", "data": {
        "action": action, "code": refused.code, "message": str(refused), "max_watched": MAX_WATCHED_POSTS}})}


@logger.inject_lambda_context
def watch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The `watch` and `unwatch` routes (one function: the same checks, the same keys)."""
    connection_id = _connection_id(event)
    action = str(event["requestContext"].get("routeKey") or "")
    try:
        post_ids = _post_ids(event)
        user_id = clients.registry.user_of(connection_id)
        if user_id is None:  # its registration expired: the next ping closes it, and the client reconnects
            raise _Refused(403, "unknown-connection", "this connection is not registered; reconnect")
        if action == "unwatch":
            clients.watchers.unwatch(connection_id, post_ids)
            return {"statusCode": 200}
        # Only posts the user may see, which also keeps ids of no post out of Redis; their counts are the reply.
        visible = clients.database.read(lambda conn: post_stats(conn, post_ids, viewer_id=user_id))
        if clients.watchers.watch(connection_id, [s.post_id for s in visible]) is None:
            raise _Refused(429, "too-many-watched",
                           f"a connection watches at most {MAX_WATCHED_POSTS} posts; unwatch some first")
    except _Refused as refused:
        logger.info("watch refused", extra={"connection_id": connection_id, "action": action, "code": refused.code})
        return _refusal(action, refused)
    return {"statusCode": 200, "body": stats_frame(visible).decode()}
