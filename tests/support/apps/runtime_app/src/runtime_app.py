"""Functions of the whole-runtime test: one of each trigger, wired together as an app would be.

- `on_connect` ($connect) remembers the connection id in Redis.
- `push` (Kafka) posts each record's message to the connection it names, through the @connections
  API at the endpoint the template builds for AWS (the runtime points it at the local gateway).
- `show_environment` (HTTP) returns the variables a test checks.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import boto3
import redis

_redis = redis.Redis.from_url("redis://127.0.0.1:6379/15")


def on_connect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _redis.rpush(f"{os.environ['TEST_PREFIX']}:connections", event["requestContext"]["connectionId"])
    return {"statusCode": 200}


def push(event: dict[str, Any], context: Any) -> None:
    client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WS_ENDPOINT"])
    for records in event["records"].values():
        for record in records:
            value = json.loads(base64.b64decode(record["value"]))
            client.post_to_connection(ConnectionId=value["connection_id"], Data=value["message"].encode())


def show_environment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    names = ("GREETING", "WS_ENDPOINT", "TEST_PREFIX", "AWS_LAMBDA_FUNCTION_NAME")
    return {name: os.environ.get(name) for name in names}
