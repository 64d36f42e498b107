"""Rate limits: token buckets in Redis, one atomic script call (EVALSHA) per check.

A bucket holds at most `burst` tokens and gains `per_minute / 60` tokens a second; a request takes
one or is refused with the seconds until the next token (the Retry-After of the 429). The script
reads the clock with Redis TIME, so every function process, whatever its own clock, sees the same
time, and read-refill-take happens atomically, so concurrent requests never both get the last token.
A bucket expires once it would be full again: an absent bucket is a full one, so idle keys cost
no memory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import redis

# KEYS[1]: bucket. ARGV: burst (capacity), refill rate in tokens per second.
# Returns {allowed (0|1), remaining whole tokens, milliseconds until one token is available}.
# Whole numbers only: Redis truncates Lua floats in replies.
_TOKEN_BUCKET_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens, at = capacity, now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed, wait_ms = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((capacity - tokens) / rate * 1000)))
return {allowed, math.floor(tokens), wait_ms}
"""

MS_PER_S = 1000


@dataclass(frozen=True)
class Rule:
    """`per_minute` sustained, up to `burst` at once."""

    per_minute: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after_s: int  # 0 when allowed; otherwise >= 1, for the Retry-After header


# The rule names the API uses; the key is the client IP for "auth", the user id for the others.
AUTH_PER_IP = "auth-per-ip"  # login, register, refresh: slows password guessing
WRITES_PER_USER = "writes-per-user"
READS_PER_USER = "reads-per-user"
DEFAULT_RULES: Mapping[str, Rule] = {
    AUTH_PER_IP: Rule(per_minute=10, burst=10),
    WRITES_PER_USER: Rule(per_minute=60, burst=60),
    READS_PER_USER: Rule(per_minute=600, burst=600),
}


class RateLimiter:
    def __init__(self, client: redis.Redis, rules: Mapping[str, Rule] = DEFAULT_RULES, prefix: str = "") -> None:
        for name, rule in rules.items():
            if rule.per_minute <= 0 or rule.burst < 1:
                raise ValueError(f"rate limit rule {name!r} needs a positive rate and a burst of at least 1")
        self._rules = dict(rules)
        self._prefix = f"{prefix}ratelimit:"
        self._redis = client
        self._script = client.register_script(_TOKEN_BUCKET_SCRIPT)

    def bucket_key(self, rule: str, key: str | int) -> str:
        return f"{self._prefix}{rule}:{key}"

    def reset(self, rule: str, key: str | int) -> None:
        """A full bucket again (the next request starts a new one)."""
        self._redis.delete(self.bucket_key(rule, key))

    def check(self, rule: str, key: str | int) -> Decision:
        """Take one token from the bucket of (rule, key); KeyError for an unknown rule."""
        limits = self._rules[rule]
        allowed, remaining, wait_ms = self._script(
            keys=[self.bucket_key(rule, key)], args=[limits.burst, repr(limits.per_second)])
        if allowed:
            return Decision(True, int(remaining), 0)
        return Decision(False, int(remaining), max(1, math.ceil(int(wait_ms) / MS_PER_S)))
