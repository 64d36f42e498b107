"""Sessions, password change and the WebSockets they close: the API function in-process (`direct`),
the repo template's WebSocket routes in sandboxes behind the emulator's WebSocket gateway, real
`websockets` clients, one Redis. The API closes connections through the gateway's management API
(DeleteConnection), as it would through API Gateway's."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from kafkagram.auth import AccessTokens
from kafkagram.auth.ratelimit import MAX_WS_CONNECTIONS_PER_USER, RateLimiter
from kafkagram.auth.tokens import LOCAL_DEVELOPMENT_SECRET
from kafkagram.connections import ConnectionRegistry
from tests.support.api import Account, empty_bucket, register
from tests.support.websocket import (
    LOCAL_CREDENTIALS,
    WAIT_S,
    Served,
    template_websocket_api,
    wait_for,
)

STAGE_PATH = "/local"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with template_websocket_api(tmp_path_factory.mktemp("ws")) as served:
        yield served


@pytest.fixture
def api(direct: Any, ws: Served, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The API function with the management endpoint the runtime would give it."""
    monkeypatch.setenv("WEBSOCKET_ENDPOINT", f"http://{ws.host}{STAGE_PATH}")
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return direct


@pytest.fixture
def registry(redis_client: redis.Redis) -> ConnectionRegistry:
    return ConnectionRegistry(redis_client)


def login(api: Any, account: Account, user_agent: str, password: str = PASSWORD) -> dict[str, Any]:
    reply = api.request("POST", "/api/auth/login", json_body={"username": account.username, "password": password},
                        headers={"User-Agent": user_agent})
    assert reply.status == 200, reply.body
    return reply.json()


def open_socket(ws: Served, access_token: str, source: str | None = None) -> ClientConnection:
    url = ws.url(STAGE_PATH, token=access_token)
    if source is None:
        return connect(url, proxy=None, open_timeout=WAIT_S)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # another loopback address: its own client IP
    sock.bind((source, 0))
    host, port = ws.host.split(":")
    sock.connect((host, int(port)))
    return connect(url, sock=sock, open_timeout=WAIT_S)


def connections(registry: ConnectionRegistry, user_id: str, count: int) -> list[str]:
    user = int(user_id)
    return wait_for(lambda: (c := registry.connections_of([user]).get(user, [])) and len(c) == count and c,
                    f"{count} registered connection(s) of user {user}")


def closed_by_server(client: ClientConnection) -> bool:
    with pytest.raises(ConnectionClosed):
        while True:  # anything sent before the close is skipped; recv raises once it comes
            client.recv(timeout=WAIT_S)
    return True


def still_open(client: ClientConnection) -> bool:
    client.send(json.dumps({"action": "ping"}))
    return json.loads(client.recv(timeout=WAIT_S)) == {"type": "pong"}


def refresh(api: Any, token: str) -> Any:
    return api.request("POST", "/api/auth/refresh", json_body={"refresh_token": token})


def sid(access_token: str) -> str:
    session_id = AccessTokens(LOCAL_DEVELOPMENT_SECRET).verify(access_token).session_id
    assert session_id is not None
    return session_id


def test_password_change_ends_every_other_session_and_closes_its_websockets(api, ws, registry):
    account = register(api)  # this session is the one that changes the password
    laptop = login(api, account, "Laptop/1.0")
    with open_socket(ws, account.access_token) as mine, open_socket(ws, laptop["access_token"]) as theirs:
        connections(registry, account.id, 2)
        wrong = api.request("POST", "/api/me/password", token=account.access_token,
                            json_body={"current_password": "not it", "new_password": "a new long password"})
        assert wrong.status == 403 and wrong.error == "wrong-password"
        short = api.request("POST", "/api/me/password", token=account.access_token,
                            json_body={"current_password": PASSWORD, "new_password": "short"})
        assert short.status == 400 and short.error == "password-too-short"

        changed = api.request("POST", "/api/me/password", token=account.access_token,
                              json_body={"current_password": PASSWORD, "new_password": "a new long password"})
        assert changed.status == 204, changed.body
        assert closed_by_server(theirs)
        assert still_open(mine)
    assert refresh(api, laptop["refresh_token"]).status == 401
    assert refresh(api, account.refresh_token).status == 200
    # The ended session's access token, still unexpired, no longer opens a WebSocket.
    with pytest.raises(InvalidStatus) as refused:
        open_socket(ws, laptop["access_token"])
    assert refused.value.response.status_code == 401
    assert api.request("POST", "/api/auth/login", json_body={"username": account.username, "password": PASSWORD}
                       ).status == 401
    login(api, account, "Laptop/1.0", password="a new long password")


def test_the_session_list_marks_the_current_one_and_one_session_can_be_ended(api, ws, registry):
    account = register(api)
    phone = login(api, account, "Phone/2.0")
    listed = api.request("GET", "/api/me/sessions", token=account.access_token)
    assert listed.status == 200, listed.body
    items = listed.json()["items"]
    assert [item["id"] for item in items] == [sid(phone["access_token"]), sid(account.access_token)]
    assert [item["current"] for item in items] == [False, True]
    assert items[0]["user_agent"] == "Phone/2.0"
    assert items[0]["ip"] == api.source_ip.rsplit(".", 1)[0] + ".0/24"  # coarse: the /24 only
    assert items[0]["created_at"] <= items[0]["last_used_at"]

    with open_socket(ws, phone["access_token"]) as socket_of_phone:
        connections(registry, account.id, 1)
        ended = api.request("DELETE", f"/api/me/sessions/{sid(phone['access_token'])}", token=account.access_token)
        assert ended.status == 204, ended.body
        assert closed_by_server(socket_of_phone)
    assert refresh(api, phone["refresh_token"]).status == 401
    again = api.request("DELETE", f"/api/me/sessions/{sid(phone['access_token'])}", token=account.access_token)
    assert again.status == 404 and again.error == "session-not-found"
    other = register(api)  # someone else's session cannot be ended
    assert api.request("DELETE", f"/api/me/sessions/{sid(other.access_token)}", token=account.access_token
                       ).status == 404
    assert refresh(api, other.refresh_token).status == 200
    bad = api.request("DELETE", "/api/me/sessions/has%20space", token=account.access_token)
    assert bad.status == 400 and bad.json()["message"].startswith("session_id"), bad.body
    assert [item["id"] for item in api.request("GET", "/api/me/sessions", token=account.access_token
                                               ).json()["items"]] == [sid(account.access_token)]


def test_logout_closes_that_sessions_websockets_only(api, ws, registry):
    account = register(api)
    tablet = login(api, account, "Tablet/1.0")
    with open_socket(ws, account.access_token) as first, open_socket(ws, tablet["access_token"]) as second:
        connections(registry, account.id, 2)
        logout = api.request("POST", "/api/auth/logout", json_body={"refresh_token": tablet["refresh_token"]})
        assert logout.status == 204
        assert closed_by_server(second)
        assert still_open(first)


def test_log_out_everywhere_ends_every_session_and_closes_every_websocket(api, ws, registry):
    account = register(api)
    other = login(api, account, "Other/1.0")
    with open_socket(ws, account.access_token) as first, open_socket(ws, other["access_token"]) as second:
        connections(registry, account.id, 2)
        reply = api.request("DELETE", "/api/me/sessions", token=account.access_token)
        assert reply.status == 204, reply.body
        assert closed_by_server(first) and closed_by_server(second)
    assert refresh(api, account.refresh_token).status == 401
    assert refresh(api, other["refresh_token"]).status == 401


def test_websocket_connections_are_capped_per_user(api, ws, registry):
    account = register(api)
    with ExitStack() as opened:
        for _ in range(MAX_WS_CONNECTIONS_PER_USER - 1):
            opened.enter_context(open_socket(ws, account.access_token))
        with open_socket(ws, account.access_token):
            connections(registry, account.id, MAX_WS_CONNECTIONS_PER_USER)
            with pytest.raises(InvalidStatus) as refused:
                open_socket(ws, account.access_token)
            # The function answers 429 with Retry-After; the gateway refuses the upgrade with that status.
            assert refused.value.response.status_code == 429
        # A tab closed: its place is free again.
        connections(registry, account.id, MAX_WS_CONNECTIONS_PER_USER - 1)
        opened.enter_context(open_socket(ws, account.access_token))


def test_connect_is_rate_limited_per_user_and_per_client_address(api, ws, redis_client):
    account = register(api)
    empty_bucket(redis_client, "ws-connect-per-user", int(account.id))
    with pytest.raises(InvalidStatus) as refused:
        open_socket(ws, account.access_token)
    assert refused.value.response.status_code == 429
    assert json.loads(refused.value.response.body)["error"] == "rate-limited"

    # Per address: a loopback address of this test's own, whose bucket is empty and refills only later
    # (its `at` is in the future), so the refusal does not race the bucket's fast refill.
    source = f"127.0.{(int(account.id) >> 8) % 250 + 2}.{int(account.id) % 250 + 2}"
    seconds, _ = redis_client.time()
    bucket = RateLimiter(redis_client).bucket_key("ws-connect-per-ip", source)
    redis_client.hset(bucket, mapping={"tokens": "0", "at": f"{seconds + 30}.000000"})
    redis_client.pexpire(bucket, 60_000)
    try:
        someone = register(api)
        with pytest.raises(InvalidStatus) as by_address:
            open_socket(ws, someone.access_token, source=source)
        assert by_address.value.response.status_code == 429
    finally:
        redis_client.delete(bucket)
    with open_socket(ws, someone.access_token, source=source):
        pass
