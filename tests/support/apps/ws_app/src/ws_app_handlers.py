"""Handlers of the WebSocket test app, written as they would run on AWS Lambda.

Each handler records the event it got as `<WS_APP_RECORD_DIR>/<eventType>-<connectionId>-<requestId>.json`
so tests can observe side effects (a `$disconnect` has no other) and validate event shapes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3

_management_client: Any = None


def _record(event: dict[str, Any]) -> None:
    directory = os.environ.get("WS_APP_RECORD_DIR")
    if not directory:
        return
    context = event["requestContext"]
    name = f"{context['eventType']}-{context['connectionId']}-{context['requestId']}.json"
    partial = Path(directory) / f".{name}.partial"
    partial.write_text(json.dumps(event))
    partial.replace(Path(directory) / name)  # atomic: readers never see half a file


def _header(event: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == name.lower()), None)


def on_connect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _record(event)
    token = (event.get("queryStringParameters") or {}).get("token")
    if token is None:
        return {"statusCode": 401, "body": "Unauthorized"}
    if token != "good":
        return {"statusCode": 403, "body": "Forbidden"}
    response: dict[str, Any] = {"statusCode": 200}
    requested = _header(event, "Sec-WebSocket-Protocol")
    if requested:  # accept the client's first subprotocol, as AWS's subprotocol example does
        response["headers"] = {"Sec-WebSocket-Protocol": requested.split(",")[0].strip()}
    return response


def on_disconnect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _record(event)
    return {"statusCode": 200}


def on_default(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Two-way route: the body returned here is what the client receives."""
    _record(event)
    context = event["requestContext"]
    reply = {"route": context["routeKey"], "received": event["body"], "isBase64Encoded": event["isBase64Encoded"],
             "connectionId": context["connectionId"]}
    return {"statusCode": 200, "body": json.dumps(reply)}


def on_echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One-way route: answers by posting to the caller's connection through the management API."""
    global _management_client
    _record(event)
    if _management_client is None:
        _management_client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WS_CALLBACK_URL"])
    message = json.loads(event["body"])
    reply = {"route": "echo", "echo": message.get("payload"), "endpoint": os.environ["WS_CALLBACK_URL"]}
    _management_client.post_to_connection(ConnectionId=event["requestContext"]["connectionId"],
                                          Data=json.dumps(reply).encode())
    return {"statusCode": 200, "body": "this one-way route's body is never sent"}


def on_fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _record(event)
    raise RuntimeError("the fail route always fails")
