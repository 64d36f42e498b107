"""The API function under test, two ways, both with real PostgreSQL and Redis:

- `ServedGateway`: the function in real sandboxes behind the local HTTP API gateway, built from the
  repo's template.yaml (the same route, event and process boundary as `make up`), over real HTTP;
- `DirectClient`: the handler called in this process with the event the gateway would build (fast,
  and lets a test choose the client IP, which the gateway always reports as 127.0.0.1).

Both return the same `Reply`. Every test makes its own users (unique names), so tests need no cleanup
and can run against a database other tests use. The fixtures are in tests/integration/api/conftest.py.
"""

from __future__ import annotations

import http.client
import json
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

import redis

from emulator.http.events import IncomingRequest, build_v2_event
from emulator.http.routes import build_route_table
from emulator.template import Template
from kafkagram.auth import RateLimiter
from kafkagram.auth.ratelimit import AUTH_PER_IP
from tests.support.repo import REPO
from tests.support.served import ServedApp
from tests.support.services import REDIS_TEST_URL
from tests.support.store import make_media

API_DIR = REPO / "functions" / "api"
FUNCTION_ID = "ApiFunction"
# The function's modules import as top-level `app`, `routes`..., as Lambda imports them from CodeUri.
if str(API_DIR) not in sys.path:
    sys.path.insert(0, str(API_DIR))


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> str:
        return self.json()["error"]


class Client(Protocol):
    def request(self, method: str, path: str, *, json_body: Any = None, token: str | None = None,
                body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply: ...


def _encode(json_body: Any, body: bytes | None, token: str | None,
            headers: dict[str, str] | None) -> tuple[bytes, dict[str, str]]:
    sent = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        sent.setdefault("Content-Type", "application/json")
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return body or b"", sent


@dataclass
class DirectClient:
    """Calls `app.handler` in-process with the payload 2.0 event the local gateway builds."""

    template: Template
    source_ip: str = field(default_factory=lambda: f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7")

    def request(self, method: str, path: str, *, json_body: Any = None, token: str | None = None,
                body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        import app  # the function's module (API_DIR is on sys.path)

        payload, sent = _encode(json_body, body, token, headers)
        raw_path, _, raw_query = path.partition("?")
        query = [tuple(pair.split("=", 1)) if "=" in pair else (pair, "") for pair in raw_query.split("&") if pair]
        segments = raw_path.strip("/").split("/")
        match = build_route_table(self.template).match(method, segments)
        assert match is not None, f"the template routes no {method} {path}"
        incoming = IncomingRequest(
            method=method, raw_path=raw_path, path=raw_path, raw_query=raw_query, query=query,  # type: ignore[arg-type]
            headers=list(sent.items()), body=payload, source_ip=self.source_ip, protocol="HTTP/1.1",
            host="127.0.0.1:3000", server_port=3000, request_id=uuid.uuid4().hex, received_at=datetime.now(UTC))
        event = build_v2_event(match.route, match.path_parameters, incoming, "000000000000")
        result = app.handler(event, None)
        headers_out = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        return Reply(result["statusCode"], headers_out, (result.get("body") or "").encode())


class ServedGateway(ServedApp):
    """The template's HTTP API on a free port."""

    def request(self, method: str, path: str, *, json_body: Any = None, token: str | None = None,
                body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        payload, sent = _encode(json_body, body, token, headers)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=payload or None, headers=sent)
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


# An emptied bucket starts refilling only this long after: a fast bucket (10 tokens a second) would
# otherwise hand a token back before the test's next request on a busy machine.
EMPTY_BUCKET_HOLD_S = 30


def empty_bucket(client: redis.Redis, rule: str, key: str | int) -> None:
    """Leave a rate-limit bucket with no token, as if the client had just used them all; the next
    request is refused however long it takes to arrive (within EMPTY_BUCKET_HOLD_S)."""
    seconds, micros = client.time()
    bucket = RateLimiter(client).bucket_key(rule, key)
    client.hset(bucket, mapping={"tokens": "0", "at": f"{seconds + micros / 1_000_000 + EMPTY_BUCKET_HOLD_S:.6f}"})
    client.pexpire(bucket, 120_000)


def reset_bucket(client: redis.Redis, rule: str, key: str | int) -> None:
    RateLimiter(client).reset(rule, key)


@dataclass
class Account:
    username: str
    password: str
    id: str
    access_token: str
    refresh_token: str


def register(client: Client, redis_client: redis.Redis | None = None, *, username: str | None = None,
             password: str = "correct horse battery", display_name: str = "") -> Account:
    """A new user through the API: registered (202, no tokens: registration does not log in), then
    logged in. Each costs a token of the client's auth bucket, which is emptied first (tests make more
    users than one IP may per minute; through the gateway every client is 127.0.0.1)."""
    limits = redis_client if redis_client is not None else _test_redis()
    reset_bucket(limits, AUTH_PER_IP, getattr(client, "source_ip", "127.0.0.1"))
    name = username or unique_name()
    reply = client.request("POST", "/api/auth/register", json_body={
        "username": name, "email": f"{name}@example.com", "password": password, "display_name": display_name})
    assert reply.status == 202, reply.body
    reply = client.request("POST", "/api/auth/login", json_body={"username": name, "password": password})
    assert reply.status == 200, reply.body
    data = reply.json()
    return Account(name, password, data["user"]["id"], data["access_token"], data["refresh_token"])


@lru_cache(maxsize=1)
def _test_redis() -> redis.Redis:
    return redis.Redis.from_url(REDIS_TEST_URL)


def create(client: Client, account: Account, media_ids: list[int], caption: str = "") -> Any:
    return client.request("POST", "/api/posts", token=account.access_token,
                          json_body={"caption": caption, "media_ids": [str(m) for m in media_ids]})


def publish(client: Client, db: Any, account: Account, caption: str = "", media_count: int = 1) -> dict[str, Any]:
    """A published post through the API (its media already processed)."""
    media_ids = [make_media(db, int(account.id)) for _ in range(media_count)]
    reply = create(client, account, media_ids, caption)
    assert reply.status == 201, reply.body
    assert reply.json()["status"] == "published"
    return reply.json()


def follow(client: Client, follower: Account, followee: Account) -> None:
    reply = client.request("PUT", f"/api/users/{followee.username}/follow", token=follower.access_token)
    assert reply.status == 204, reply.body


def home_timeline(client: Client, account: Account, query: str = "") -> Any:
    """GET /api/timeline (its JSON page), asserting a 200."""
    reply = client.request("GET", f"/api/timeline{query}", token=account.access_token)
    assert reply.status == 200, reply.body
    return reply.json()
