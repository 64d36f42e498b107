"""Handlers of the browser test app, written as they would run on AWS Lambda.

`$connect` and `$disconnect` record the connection in Redis (a hash `<RUN_KEY>:connections` from the
page's `client` query parameter to its connectionId, and a set `<RUN_KEY>:disconnected`) so the test
can tell, server-side, which connection is the browser's and when it went away.
"""

from __future__ import annotations

import json
import os
from typing import Any

import redis

_redis: redis.Redis | None = None


def _store() -> redis.Redis:
    global _redis
    if _redis is None:  # one client per sandbox, reused across invocations as on Lambda
        _redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    return _redis


def _key(suffix: str) -> str:
    return f"{os.environ['RUN_KEY']}:{suffix}"


def on_connect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    client = (event.get("queryStringParameters") or {}).get("client")
    if not client:
        return {"statusCode": 400, "body": "the client query parameter is required"}
    _store().hset(_key("connections"), client, event["requestContext"]["connectionId"])
    return {"statusCode": 200}


def on_disconnect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _store().sadd(_key("disconnected"), event["requestContext"]["connectionId"])
    return {"statusCode": 200}


def on_default(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Two-way route: tells the page its own connectionId."""
    reply = {"connectionId": event["requestContext"]["connectionId"], "received": event["body"]}
    return {"statusCode": 200, "body": json.dumps(reply)}
