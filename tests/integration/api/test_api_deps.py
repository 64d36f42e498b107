"""Per-sandbox resources: one connection reused across invocations, replaced when it dies, and one
transaction per write."""

from __future__ import annotations

import deps
import pytest
import redis

from kafkagram.auth import RateLimiter
from kafkagram.store import Invalid
from kafkagram.store import users as users_store
from tests.support.api import register
from tests.support.services import free_port


def _backend_pid() -> int:
    return int(deps.read(lambda conn: conn.run("SELECT pg_backend_pid()"))[0][0])


def test_the_connection_is_reused_across_invocations(direct):
    account = register(direct)
    pid = _backend_pid()
    for _ in range(3):
        assert direct.request("GET", "/api/me", token=account.access_token).status == 200
    assert _backend_pid() == pid


def test_a_dead_connection_is_replaced_for_reads_and_writes(direct, db):
    account = register(direct)
    for method, path, body in (("GET", "/api/me", None), ("PATCH", "/api/me", {"bio": "after restart"})):
        pid = _backend_pid()
        db.run("SELECT pg_terminate_backend(:pid)", pid=pid)  # as a database restart would
        reply = direct.request(method, path, token=account.access_token, json_body=body)
        assert reply.status == 200, reply.body
        assert _backend_pid() != pid


def test_a_failed_write_rolls_back_and_leaves_the_connection_usable(direct, db):
    account = register(direct)

    def half_done(conn):
        users_store.update_profile(conn, int(account.id), bio="never committed")
        raise Invalid("test", "fails after a write")

    with pytest.raises(Invalid):
        deps.write(half_done)
    [[bio]] = db.run("SELECT bio FROM users WHERE id = :id", id=int(account.id))
    assert bio == ""
    events = db.run("SELECT count(*) FROM outbox WHERE payload->>'type' = 'profile-updated' "
                    "AND payload->'data'->>'user_id' = :id", id=account.id)
    assert events == [[0]]
    assert direct.request("GET", "/api/me", token=account.access_token).status == 200


def test_writes_outside_deps_write_would_be_refused(direct):
    # The store refuses state changes outside a transaction; deps.read is autocommit, so a route
    # that wrongly used it for a write fails loudly instead of committing without its event.
    account = register(direct)
    with pytest.raises(Exception, match="transaction"):
        deps.read(lambda conn: users_store.update_profile(conn, int(account.id), bio="x"))


def test_redis_unreachable_is_a_json_503_not_a_crash(direct, monkeypatch):
    account = register(direct)
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    monkeypatch.setattr(deps, "_limiter", RateLimiter(dead))
    reply = direct.request("GET", "/api/me", token=account.access_token)
    assert reply.status == 503 and reply.error == "unavailable"
