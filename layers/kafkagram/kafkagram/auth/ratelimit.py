"""Rate limits: token buckets in Redis, one atomic script call (EVALSHA) per check.

A bucket holds at most `burst` tokens and gains `per_minute / 60` tokens a second; a request takes
one or is refused with the seconds until the next token (the Retry-After of the 429). The script
reads the clock with Redis TIME, so every function process, whatever its own clock, sees the same
time, and read-refill-take happens atomically, so concurrent requests never both get the last token.
A bucket expires once it would be full again: an absent bucket is a full one, so idle keys cost
no memory.

The bucket logic is one Lua function, `take_token` (TAKE_TOKEN_LUA), so another script can take a
request's token in its own round trip: the API's home timeline does (kafkagram.feed), through a `Take`
that the API's admission hands it. A `Take` is spent exactly once, by that script or by `settle()`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

# take_token(bucket key, burst (capacity), refill rate in tokens per second) ->
# {allowed (0|1), remaining whole tokens, milliseconds until one token is available}.
# Whole numbers only: Redis truncates Lua floats in replies. A Lua function, not a whole script, so that
# other scripts can compose it (kafkagram.feed's home timeline); the script below is just a call of it.
TAKE_TOKEN_LUA = """
local function take_token(key, capacity, rate)
  capacity = tonumber(capacity)
  rate = tonumber(rate)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  local state = redis.call('HMGET', key, 'tokens', 'at')
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
  redis.call('HSET', key, 'tokens', string.format('%.17g', tokens), 'at', string.format('%.6f', now))
  redis.call('PEXPIRE', key, math.max(1, math.ceil((capacity - tokens) / rate * 1000)))
  return {allowed, math.floor(tokens), wait_ms}
end
"""
# KEYS[1]: bucket. ARGV: burst, refill rate in tokens per second.
_TOKEN_BUCKET_SCRIPT = TAKE_TOKEN_LUA + "return take_token(KEYS[1], ARGV[1], ARGV[2])\n"

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

    @classmethod
    def of(cls, reply: Sequence[Any]) -> Decision:
        """From take_token's reply {allowed, remaining, wait_ms}."""
        allowed, remaining, wait_ms = reply
        if allowed:
            return cls(True, int(remaining), 0)
        return cls(False, int(remaining), max(1, math.ceil(int(wait_ms) / MS_PER_S)))


class RateLimited(Exception):
    """A folded `Take` was refused: answer 429 with `decision.retry_after_s`."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(f"rate limited; retry in {decision.retry_after_s} s")
        self.decision = decision


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

    def script_args(self, rule: str) -> list[str]:
        """take_token's burst and rate arguments for `rule`; KeyError for an unknown rule."""
        limits = self._rules[rule]
        return [str(limits.burst), repr(limits.per_second)]

    def check(self, rule: str, key: str | int) -> Decision:
        """Take one token from the bucket of (rule, key); KeyError for an unknown rule."""
        return Decision.of(self._script(keys=[self.bucket_key(rule, key)], args=self.script_args(rule)))

    def take(self, rule: str, key: str | int) -> Take:
        """A token to take later, by `settle()` or inside another script's round trip (KeyError for an
        unknown rule, now rather than then)."""
        self.script_args(rule)
        return Take(self, rule, key)


@dataclass
class Take:
    """One request's token from one bucket, taken exactly once: inside a script that composes
    TAKE_TOKEN_LUA (it passes `bucket_key` and `script_args`, then `record`s take_token's reply), or
    by `settle()`, its own round trip. `decision` is None until then."""

    limiter: RateLimiter
    rule: str
    key: str | int
    decision: Decision | None = None

    @property
    def bucket_key(self) -> str:
        return self.limiter.bucket_key(self.rule, self.key)

    @property
    def script_args(self) -> list[str]:
        return self.limiter.script_args(self.rule)

    def record(self, reply: Sequence[Any]) -> Decision:
        """The decision of a composed take_token call."""
        self.decision = Decision.of(reply)
        return self.decision

    def settle(self) -> Decision:
        """The decision, taking the token now (one round trip) if no script took it."""
        if self.decision is None:
            self.decision = self.limiter.check(self.rule, self.key)
        return self.decision
