"""The per-account login lockout against the real Redis (db 15): when it starts, how it grows, its cap."""

from __future__ import annotations

import redis

from kafkagram.auth.ratelimit import (
    LOGIN_FAILURE_MEMORY_S,
    LOGIN_FAILURES_BEFORE_LOCKOUT,
    LOGIN_LOCKOUT_BASE_S,
    LOGIN_LOCKOUT_MAX_S,
    LoginThrottle,
)


def test_the_lockout_starts_after_the_allowed_failures_doubles_and_is_capped(redis_client: redis.Redis,
                                                                             unique: str) -> None:
    throttle, account = LoginThrottle(redis_client, prefix=f"test:{unique}:"), "user:7"
    try:
        locks = [throttle.failed(account) for _ in range(LOGIN_FAILURES_BEFORE_LOCKOUT + 6)]
        assert locks[:LOGIN_FAILURES_BEFORE_LOCKOUT - 1] == [0] * (LOGIN_FAILURES_BEFORE_LOCKOUT - 1)
        growing = locks[LOGIN_FAILURES_BEFORE_LOCKOUT - 1:]
        assert growing[0] == LOGIN_LOCKOUT_BASE_S and growing[1] == 2 * LOGIN_LOCKOUT_BASE_S
        assert growing == sorted(growing) and growing[-1] == LOGIN_LOCKOUT_MAX_S
        assert 0 < throttle.locked_for(account) <= LOGIN_LOCKOUT_MAX_S
        assert 0 < redis_client.ttl(throttle.failures_key(account)) <= LOGIN_FAILURE_MEMORY_S
        assert throttle.locked_for("user:8") == 0  # other accounts are not affected
        throttle.succeeded(account)
        assert throttle.locked_for(account) == 0 and throttle.failed(account) == 0  # counting starts over
    finally:
        redis_client.delete(throttle.failures_key(account), throttle.lock_key(account))
