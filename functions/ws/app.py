"""The WebSocket API's routes: `$connect` (token auth), `$disconnect` and `ping`.

They keep the connection registry (`kafkagram.connections`) that the push handler reads:
- `$connect`: the access token comes in the `token` query parameter (browsers cannot set headers on
  a WebSocket); missing or invalid -> 401 and API Gateway refuses the upgrade;
- `$disconnect`: forget the connection (best effort: AWS may skip it, hence the keys' TTL);
- `ping` (`{"action": "ping"}`): refresh the keys' TTL and answer `{"type": "pong"}` through the
  management API. A connection the registry forgot (its keys expired) is closed instead, so the
  client reconnects and registers again rather than silently missing its pushes.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.auth import AccessTokens, TokenError, ensure_secret_usable
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


def _connection_id(event: dict[str, Any]) -> str:
    return str(event["requestContext"]["connectionId"])


def _unauthorized(code: str, message: str) -> dict[str, Any]:
    return {"statusCode": 401, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"error": code, "message": message})}


@logger.inject_lambda_context
def connect(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        return _unauthorized("unauthorized", "the token query parameter is required")
    try:
        claims = _tokens().verify(token)
    except TokenError as error:
        return _unauthorized(error.code, str(error))
    clients.registry.register(int(claims.user_id), _connection_id(event))
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
    try:
        if clients.registry.refresh(connection_id) is None:
            client.delete_connection(ConnectionId=connection_id)
        else:
            client.post_to_connection(ConnectionId=connection_id, Data=b'{"type": "pong"}')
    except client.exceptions.GoneException:  # closed while we answered: $disconnect cleans up
        pass
    return {"statusCode": 200}
