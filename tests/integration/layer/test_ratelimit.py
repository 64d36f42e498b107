"""Token-bucket rate limits against the real Redis (db 15), each test under its own key prefix.

No fixed sleeps: refill is observed with fast rules (thousands of tokens a minute) and a deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from kafkagram.auth.ratelimit import (
    AUTH_PER_IP,
    DEFAULT_RULES,
    READS_PER_USER,
    WRITES_PER_USER,
    Decision,
    RateLimiter,
    Rule,
)
from tests.support.waiting import wait_for

SLOW = "slow"  # 1 token a minute: nothing refills during a test
FAST = "fast"  # 60,000 a minute: a token every millisecond
THREADS = 20
RULES = {
    **DEFAULT_RULES,
    SLOW: Rule(per_minute=1, burst=5),
    FAST: Rule(per_minute=60_000, burst=3),
}


@pytest.fixture
def limiter(redis_client: redis.Redis, unique: str) -> Iterator[RateLimiter]:
    prefix = f"test:{unique}:"
    yield RateLimiter(redis_client, RULES, prefix=prefix)
    keys = list(redis_client.scan_iter(match=f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


def _drain(limiter: RateLimiter, rule: str, key: str, count: int) -> list[Decision]:
    return [limiter.check(rule, key) for _ in range(count)]


def test_default_rules() -> None:
    assert DEFAULT_RULES[AUTH_PER_IP] == Rule(per_minute=10, burst=10)
    assert DEFAULT_RULES[WRITES_PER_USER].per_minute == 60
    assert DEFAULT_RULES[READS_PER_USER].per_minute == 600


def test_allows_the_burst_then_refuses_with_retry_after(limiter: RateLimiter) -> None:
    decisions = _drain(limiter, AUTH_PER_IP, "203.0.113.7", 10)
    assert all(decision.allowed for decision in decisions)
    assert [decision.remaining for decision in decisions] == list(range(9, -1, -1))
    assert all(decision.retry_after_s == 0 for decision in decisions)
    refused = limiter.check(AUTH_PER_IP, "203.0.113.7")
    assert refused == Decision(allowed=False, remaining=0, retry_after_s=6)  # 10/min: a token every 6 s


def test_retry_after_is_at_least_one_second(limiter: RateLimiter) -> None:
    _drain(limiter, FAST, "user-1", 3)
    refused = wait_for(lambda: next((d for d in _drain(limiter, FAST, "user-1", 5) if not d.allowed), None),
                       timeout=5, message="a refusal")
    assert refused is not None
    assert refused.retry_after_s == 1  # under a millisecond to wait, rounded up to whole seconds


def test_refills_over_time(limiter: RateLimiter) -> None:
    assert all(d.allowed for d in _drain(limiter, FAST, "user-1", 3))
    wait_for(lambda: limiter.check(FAST, "user-1").remaining == 2, timeout=5, message="bucket refilled")


def test_never_holds_more_than_the_burst(limiter: RateLimiter, redis_client: redis.Redis, unique: str) -> None:
    limiter.check(FAST, "user-1")
    key = f"test:{unique}:ratelimit:{FAST}:user-1"
    wait_for(lambda: not redis_client.exists(key), timeout=5, message="full bucket to expire")
    assert limiter.check(FAST, "user-1").remaining == 2  # an absent bucket is a full one, not more


def test_separate_keys_are_independent(limiter: RateLimiter) -> None:
    _drain(limiter, SLOW, "198.51.100.1", 5)
    assert not limiter.check(SLOW, "198.51.100.1").allowed
    assert limiter.check(SLOW, "198.51.100.2") == Decision(allowed=True, remaining=4, retry_after_s=0)


def test_separate_rules_are_independent(limiter: RateLimiter) -> None:
    _drain(limiter, SLOW, "user-1", 5)
    assert not limiter.check(SLOW, "user-1").allowed
    assert limiter.check(AUTH_PER_IP, "user-1").allowed


def test_idle_bucket_expires(limiter: RateLimiter, redis_client: redis.Redis, unique: str) -> None:
    limiter.check(SLOW, "user-1")
    ttl_ms = redis_client.pttl(f"test:{unique}:ratelimit:{SLOW}:user-1")
    assert 59_000 < ttl_ms <= 60_000  # one token to win back at 1 a minute


def test_unknown_rule(limiter: RateLimiter) -> None:
    with pytest.raises(KeyError):
        limiter.check("no-such-rule", "user-1")


@pytest.mark.parametrize("rule", [Rule(per_minute=0, burst=1), Rule(per_minute=1, burst=0)])
def test_rules_must_be_positive(redis_client: redis.Redis, rule: Rule) -> None:
    with pytest.raises(ValueError):
        RateLimiter(redis_client, {"bad": rule})


def test_concurrent_requests_get_exactly_the_burst(limiter: RateLimiter) -> None:
    start = threading.Barrier(THREADS)
    decisions: list[Decision] = []
    lock = threading.Lock()

    def hit() -> None:
        start.wait()
        decision = limiter.check(SLOW, "shared")
        with lock:
            decisions.append(decision)

    threads = [threading.Thread(target=hit) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(decisions) == THREADS
    assert sum(decision.allowed for decision in decisions) == RULES[SLOW].burst
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(RULES[SLOW].burst))


def test_one_round_trip_per_check(redis_client: redis.Redis, unique: str) -> None:
    calls: list[str] = []

    class Counting(redis.Redis):
        def execute_command(self, *args, **options):
            calls.append(str(args[0]))
            return super().execute_command(*args, **options)

    client = Counting(connection_pool=redis_client.connection_pool)
    limiter = RateLimiter(client, RULES, prefix=f"test:{unique}:")
    limiter.check(SLOW, "user-1")  # may load the script once (NOSCRIPT, then SCRIPT LOAD)
    calls.clear()
    limiter.check(SLOW, "user-1")
    assert calls == ["EVALSHA"]
    client.delete(f"test:{unique}:ratelimit:{SLOW}:user-1")
