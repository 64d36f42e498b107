"""Refresh sessions against the real Redis (db 15): stored hashed, rotated with reuse detection (after a
short grace window for the token just rotated), listed, revoked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from kafkagram.auth.sessions import (
    MAX_USER_AGENT_LENGTH,
    REFRESH_GRACE_S,
    SESSION_TTL_S,
    RefreshSessions,
    coarse_ip,
    token_hash,
)
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


@pytest.fixture
def strict(redis_client: redis.Redis, unique: str) -> RefreshSessions:
    """Sessions without a grace window: every replay of a rotated token is reuse (the same keys)."""
    return RefreshSessions(redis_client, prefix=f"test:{unique}:", grace_ms=0)


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


def test_reuse_of_rotated_token_revokes_the_family(sessions: RefreshSessions, strict: RefreshSessions) -> None:
    stolen = strict.create(7)
    legitimate = strict.rotate(stolen.token)
    assert _code(strict, stolen.token) == "reused"
    assert _code(strict, legitimate.token) == "invalid"  # the thief's replay ended the session
    assert _code(strict, stolen.token) == "invalid"


def test_reuse_leaves_other_sessions_alone(sessions: RefreshSessions, strict: RefreshSessions) -> None:
    phone, laptop = strict.create(7), strict.create(7)
    strict.rotate(phone.token)
    assert _code(strict, phone.token) == "reused"
    assert strict.rotate(laptop.token).user_id == "7"


def test_the_previous_token_gets_the_current_one_back_within_the_grace_window(
        sessions: RefreshSessions, redis_client: redis.Redis) -> None:
    first = sessions.create(7)
    tab_a = sessions.rotate(first.token)
    tab_b = sessions.rotate(first.token)  # the other tab, with the token tab A just spent
    assert tab_b.token == tab_a.token and tab_b.session_id == tab_a.session_id
    grace = redis_client.pttl(sessions.grace_key(first.session_id))
    assert 0 < grace <= REFRESH_GRACE_S * 1000
    # Redis holds the current token only sealed: neither it nor its hash appears in the grace record.
    sealed = redis_client.get(sessions.grace_key(first.session_id)).decode()
    assert tab_a.token not in sealed and token_hash(tab_a.token) not in sealed
    assert sessions.rotate(tab_a.token).session_id == first.session_id  # the session goes on
    assert _code(sessions, first.token) == "reused"  # two rotations back: reuse, even within the window


def test_after_the_grace_window_the_previous_token_is_reuse(sessions: RefreshSessions, redis_client: redis.Redis,
                                                            unique: str) -> None:
    short = RefreshSessions(redis_client, prefix=f"test:{unique}:", grace_ms=200)
    first = short.create(7)
    current = short.rotate(first.token)
    wait_for(lambda: not redis_client.exists(short.grace_key(first.session_id)), timeout=5,
             message="the grace window to end")
    assert _code(short, first.token) == "reused"
    assert _code(short, current.token) == "invalid"


def test_sessions_are_listed_with_their_metadata_and_revoked_one_by_one(sessions: RefreshSessions) -> None:
    phone = sessions.create(7, user_agent="Phone/1.0", ip=coarse_ip("198.51.100.23"))
    laptop = sessions.create(7, user_agent="L" * 1000, ip=coarse_ip("2001:db8:1:2:3:4:5:6"))
    sessions.create(8)
    sessions.rotate(phone.token, user_agent="Phone/1.1", ip=coarse_ip("198.51.100.99"))
    listed = sessions.sessions_of(7)
    assert [s.session_id for s in listed] == [phone.session_id, laptop.session_id]  # most recently used first
    assert (listed[0].user_agent, listed[0].ip) == ("Phone/1.1", "198.51.100.0/24")
    assert listed[0].created_at <= listed[0].last_used_at
    assert (len(listed[1].user_agent), listed[1].ip) == (MAX_USER_AGENT_LENGTH, "2001:db8:1::/48")
    assert not sessions.revoke_session(8, phone.session_id)  # not user 8's
    assert sessions.revoke_session(7, phone.session_id)
    assert [s.session_id for s in sessions.sessions_of(7)] == [laptop.session_id]
    assert not sessions.is_live(phone.session_id) and sessions.is_live(laptop.session_id)


def test_unknown_token_invalid(sessions: RefreshSessions) -> None:
    assert _code(sessions, "never-issued") == "invalid"
    assert _code(sessions, "x" * 10_000) == "invalid"


def test_logout_revokes(sessions: RefreshSessions) -> None:
    grant = sessions.create(7)
    assert sessions.revoke(grant.token) == grant.session_id
    assert _code(sessions, grant.token) == "invalid"
    assert sessions.revoke(grant.token) is None  # idempotent


def test_logout_with_an_old_token_ends_the_session(sessions: RefreshSessions) -> None:
    first = sessions.create(7)
    current = sessions.rotate(first.token)
    assert sessions.revoke(first.token)
    assert _code(sessions, current.token) == "invalid"


def test_revoke_all_ends_every_session_of_the_user(sessions: RefreshSessions) -> None:
    mine = [sessions.create(7), sessions.create(7)]
    other = sessions.create(8)
    assert sorted(sessions.revoke_all(7)) == sorted(grant.session_id for grant in mine)
    assert all(_code(sessions, grant.token) == "invalid" for grant in mine)
    assert sessions.rotate(other.token).user_id == "8"


def test_revoke_all_but_one_keeps_that_session(sessions: RefreshSessions) -> None:
    keep, end = sessions.create(7), sessions.create(7)
    assert sessions.revoke_all(7, keep=keep.session_id) == [end.session_id]
    assert _code(sessions, end.token) == "invalid"
    assert sessions.rotate(keep.token).session_id == keep.session_id


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
