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

import ipaddress
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


# The rule names the API and the WebSocket routes use. Every auth number lives here. Auth rules are
# keyed by client network (`client_network`: an IPv4 address, an IPv6 /64), the others by user id.
AUTH_PER_IP = "auth-per-ip"  # login and register: slows password guessing and account creation
# Refresh and logout: far larger, since a carrier-grade NAT puts thousands of people behind one
# address and every open tab refreshes every 15 minutes; a refresh proves a 256-bit token, nothing to guess.
REFRESH_PER_IP = "refresh-per-ip"
WRITES_PER_USER = "writes-per-user"
READS_PER_USER = "reads-per-user"
WS_CONNECT_PER_USER = "ws-connect-per-user"  # reconnect storms of one account (a tab in a loop)
# $connect before its token is checked: a flood guard only, as large as a carrier-grade NAT (or the
# social benchmark's ~1,000 sockets from one address, reconnected per run) needs; per user is the real limit.
WS_CONNECT_PER_IP = "ws-connect-per-ip"
DEFAULT_RULES: Mapping[str, Rule] = {
    AUTH_PER_IP: Rule(per_minute=10, burst=10),
    REFRESH_PER_IP: Rule(per_minute=600, burst=300),
    WRITES_PER_USER: Rule(per_minute=60, burst=60),
    READS_PER_USER: Rule(per_minute=600, burst=600),
    WS_CONNECT_PER_USER: Rule(per_minute=30, burst=20),
    WS_CONNECT_PER_IP: Rule(per_minute=3000, burst=3000),
}

# Per-account login throttling (LoginThrottle), on top of the per-IP bucket: a botnet has many IPs but
# each account it guesses at is one key. After LOGIN_FAILURES_BEFORE_LOCKOUT failed passwords the
# account is locked for LOGIN_LOCKOUT_BASE_S, doubling with every further failure up to
# LOGIN_LOCKOUT_MAX_S (the cap bounds how long an attacker can keep the owner out). Failures are
# remembered LOGIN_FAILURE_MEMORY_S after the last one; a successful login forgets them.
LOGIN_FAILURES_BEFORE_LOCKOUT = 5
LOGIN_LOCKOUT_BASE_S = 30
LOGIN_LOCKOUT_MAX_S = 15 * 60
LOGIN_FAILURE_MEMORY_S = 24 * 3600

# WebSocket connections one user may hold at once (tabs and devices); the next $connect is refused.
MAX_WS_CONNECTIONS_PER_USER = 10

IPV6_GROUP_PREFIX = 64  # one IPv6 subscriber usually gets a whole /64: per address would be free rotation


def client_network(source_ip: str) -> str:
    """The rate-limit key of a client address: an IPv4 address itself, an IPv6 address's /64 (an
    IPv4-mapped IPv6 address counts as its IPv4 address); "unknown" for anything unparsable."""
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_GROUP_PREFIX), strict=False))
    return str(address)


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


# KEYS[1]: failure counter, KEYS[2]: lock. ARGV: failures before lockout, base s, max s, memory s.
# Counts one failure and returns the lockout it starts in seconds (0: none yet). Atomic, so concurrent
# guesses cannot each read the count before the other's increment.
_LOGIN_FAILURE_SCRIPT = """
local failures = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local over = failures - tonumber(ARGV[1])
if over < 0 then return 0 end
local lock = math.floor(math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ math.min(over, 30)))
redis.call('SET', KEYS[2], failures, 'EX', lock)
return lock
"""


class LoginThrottle:
    """Failed-password counting and lockout per account (constants LOGIN_* above). `account` is any
    stable key of the account tried: the user id when it exists, else the identifier typed, so an unknown
    name locks exactly like a real one and the 429 reveals nothing."""

    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self._redis = client
        self._prefix = f"{prefix}login:"
        self._failed = client.register_script(_LOGIN_FAILURE_SCRIPT)

    def failures_key(self, account: str) -> str:
        return f"{self._prefix}failures:{account}"

    def lock_key(self, account: str) -> str:
        return f"{self._prefix}lock:{account}"

    def locked_for(self, account: str) -> int:
        """Seconds until the account may try again; 0 when it may now."""
        remaining_ms = int(self._redis.pttl(self.lock_key(account)))
        return max(1, math.ceil(remaining_ms / MS_PER_S)) if remaining_ms > 0 else 0

    def failed(self, account: str) -> int:
        """Count a wrong password; the lockout it starts in seconds (0: none)."""
        return int(self._failed(keys=[self.failures_key(account), self.lock_key(account)], args=[
            LOGIN_FAILURES_BEFORE_LOCKOUT, LOGIN_LOCKOUT_BASE_S, LOGIN_LOCKOUT_MAX_S, LOGIN_FAILURE_MEMORY_S]))

    def succeeded(self, account: str) -> None:
        """A right password: forget the failures (the backoff starts over)."""
        self._redis.delete(self.failures_key(account), self.lock_key(account))
