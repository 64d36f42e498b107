"""Refresh sessions against the real Redis (db 15): stored hashed, rotated with reuse detection, revoked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from kafkagram.auth.sessions import SESSION_TTL_S, RefreshSessions, token_hash
from kafkagram.auth.tokens import TokenError
from tests.support.waiting import wait_for

# Refresh sessions

@pytest.fixture
def sessions(redis_client: redis.Redis, unique: str) -> Iterator[RefreshSessions]:
    prefix = f"test:{unique}:"
    yield RefreshSessions(redis_client, prefix=prefix)
    keys = list(redis_client.scan_iter(match=f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


def _code(sessions: RefreshSessions, token: str) -> str:
    with pytest.raises(TokenError) as refused:
        sessions.rotate(token)
    return refused.value.code


def test_refresh_token_stored_hashed_with_ttl(sessions: RefreshSessions, redis_client: redis.Redis,
                                               unique: str) -> None:
    grant = sessions.create(7)
    keys = {key.decode() for key in redis_client.scan_iter(match=f"test:{unique}:*")}
    assert f"test:{unique}:auth:refresh:{token_hash(grant.token)}" in keys
    assert not any(grant.token in key for key in keys)
    ttl = redis_client.ttl(f"test:{unique}:auth:refresh:{token_hash(grant.token)}")
    assert SESSION_TTL_S - 5 <= ttl <= SESSION_TTL_S
    assert grant.user_id == "7"
    assert grant.expires_in_s == SESSION_TTL_S


def test_refresh_rotates(sessions: RefreshSessions) -> None:
    first = sessions.create(7)
    second = sessions.rotate(first.token)
    assert second.token != first.token
    assert (second.user_id, second.session_id) == ("7", first.session_id)
    third = sessions.rotate(second.token)
    assert third.session_id == first.session_id


def test_reuse_of_rotated_token_revokes_the_family(sessions: RefreshSessions) -> None:
    stolen = sessions.create(7)
    legitimate = sessions.rotate(stolen.token)
    assert _code(sessions, stolen.token) == "reused"
    assert _code(sessions, legitimate.token) == "invalid"  # the thief's replay ended the session
    assert _code(sessions, stolen.token) == "invalid"


def test_reuse_leaves_other_sessions_alone(sessions: RefreshSessions) -> None:
    phone, laptop = sessions.create(7), sessions.create(7)
    sessions.rotate(phone.token)
    assert _code(sessions, phone.token) == "reused"
    assert sessions.rotate(laptop.token).user_id == "7"


def test_unknown_token_invalid(sessions: RefreshSessions) -> None:
    assert _code(sessions, "never-issued") == "invalid"
    assert _code(sessions, "x" * 10_000) == "invalid"


def test_logout_revokes(sessions: RefreshSessions) -> None:
    grant = sessions.create(7)
    assert sessions.revoke(grant.token)
    assert _code(sessions, grant.token) == "invalid"
    assert not sessions.revoke(grant.token)  # idempotent


def test_logout_with_an_old_token_ends_the_session(sessions: RefreshSessions) -> None:
    first = sessions.create(7)
    current = sessions.rotate(first.token)
    assert sessions.revoke(first.token)
    assert _code(sessions, current.token) == "invalid"


def test_revoke_all_ends_every_session_of_the_user(sessions: RefreshSessions) -> None:
    mine = [sessions.create(7), sessions.create(7)]
    other = sessions.create(8)
    assert sessions.revoke_all(7) == 2
    assert all(_code(sessions, grant.token) == "invalid" for grant in mine)
    assert sessions.rotate(other.token).user_id == "8"


def test_session_expires_with_its_ttl(redis_client: redis.Redis, unique: str) -> None:
    short = RefreshSessions(redis_client, prefix=f"test:{unique}:", ttl_s=1)
    grant = short.create(7)
    key = f"test:{unique}:auth:refresh:{token_hash(grant.token)}"
    assert 0 < redis_client.pttl(key) <= 1000
    redis_client.pexpire(key, 1)  # expire now rather than wait a second
    redis_client.pexpire(f"test:{unique}:auth:session:{grant.session_id}", 1)
    wait_for(lambda: not redis_client.exists(key), timeout=5, message="token key expiry")
    assert _code(short, grant.token) == "invalid"


def test_rotate_and_revoke_are_one_round_trip_each(redis_client: redis.Redis, unique: str) -> None:
    calls: list[str] = []

    class Counting(redis.Redis):
        def execute_command(self, *args, **options):
            calls.append(str(args[0]))
            return super().execute_command(*args, **options)

    sessions = RefreshSessions(Counting(connection_pool=redis_client.connection_pool), prefix=f"test:{unique}:")
    warm = sessions.rotate(sessions.create(7).token)  # loads the scripts if Redis lacks them
    sessions.revoke(warm.token)
    grant = sessions.create(7)
    calls.clear()
    grant = sessions.rotate(grant.token)
    sessions.revoke(grant.token)
    assert calls == ["EVALSHA", "EVALSHA"]
