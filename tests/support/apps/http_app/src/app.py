"""Handlers of the HTTP gateway test app: each shows one behaviour of the API Gateway proxy contract."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

RELEASE_WAIT_SECONDS = 15.0


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return the event as received, so tests can inspect exactly what the gateway sent."""
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-echo": "1"},
        "body": json.dumps({"event": event, "request_id": context.aws_request_id}),
    }


def binary(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Send the request body back reversed, as binary: base64 on both legs."""
    raw = event.get("body") or ""
    data = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/octet-stream",
                    "x-request-was-base64": str(bool(event.get("isBase64Encoded"))).lower()},
        "body": base64.b64encode(data[::-1]).decode(),
        "isBase64Encoded": True,
    }


_RESPONSES: dict[str, Any] = {
    "cookies": {"statusCode": 201, "cookies": ["session=abc; Path=/; HttpOnly", "theme=dark"],
                "headers": {"x-kind": "cookies"}, "body": "cookies set"},
    "inferred-dict": {"hello": "world", "count": 2},
    "inferred-string": "plain words",
    "invalid": {"statusCode": "not-a-number", "body": "x"},
    "cors-override": {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://evil.example"},
                      "body": "x"},
    "multi": {"statusCode": 200, "headers": {"x-single": "a", "x-both": "from-headers"},
              "multiValueHeaders": {"x-both": ["m1", "m2"], "Set-Cookie": ["c=1", "d=2"]}, "body": "multi"},
    "body-object": {"statusCode": 200, "body": {"not": "a string"}},
    "extra-key": {"statusCode": 200, "body": "x", "unexpected": True},
    "base64-png": {"statusCode": 200, "headers": {"content-type": "image/png"},
                   "body": base64.b64encode(b"\x89PNG bytes").decode(), "isBase64Encoded": True},
}


def responses(event: dict[str, Any], context: Any) -> Any:
    """Return the canned result named by the {kind} path parameter."""
    return _RESPONSES[event["pathParameters"]["kind"]]


def fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    mode = event["pathParameters"]["mode"]
    if mode == "exit":
        os._exit(3)  # the sandbox process dies mid-invocation
    raise RuntimeError(f"failing on purpose ({mode})")


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Outlive the function's 1 s Timeout."""
    time.sleep(30)
    return {"statusCode": 200, "body": "too late"}


def wait_for_release(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Signal being in flight (marker file), then hold the request until the test releases it."""
    params = event.get("queryStringParameters") or {}
    Path(params["marker"]).touch()
    release = Path(params["release"])
    deadline = time.monotonic() + RELEASE_WAIT_SECONDS
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"statusCode": 200, "body": "released" if release.exists() else "gave up"}


def hello(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "hello"}
