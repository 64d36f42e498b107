"""Refresh tokens: opaque, rotated on every use, with reuse detection (OAuth 2.0 Security BCP 4.14).

Why Redis: a refresh or logout must take effect at once for every function, and each operation is
one key lookup with a TTL, which Redis does in one round trip and expires by itself. PostgreSQL
would do as well (a table with an expiry column and a cleanup job); nothing here needs a join.

Layout, under `<prefix>auth:`:
- `refresh:<sha256(token)>` -> session id, TTL SESSION_TTL_S from the token's issue. Only the hash is
  stored, so a copy of Redis yields no usable token. Rotated tokens keep their record until it
  expires: that is how a replayed old token is recognised.
- `session:<session id>` (hash) -> user_id, current (hash of the one valid token), previous (hash of
  the token it replaced), created_at, last_used_at (Unix seconds), user_agent, ip (coarse: see
  `coarse_ip`); TTL renewed on every rotation, so a session ends after SESSION_TTL_S without use.
- `grace:<session id>` -> the current token sealed with the previous one (`_seal`), for
  REFRESH_GRACE_S after a rotation.
- `user:<user id>:sessions` (set) -> session ids, for the session list and "log out everywhere".

Each token belongs to a session (a "family"). Refreshing with the current token rotates it. Two tabs
share one session and often refresh at the same moment: the loser presents the token the winner just
rotated. So for REFRESH_GRACE_S after a rotation the immediately previous token still works: it gets
the same current refresh token back (unsealed with the previous token itself, so the sealed copy in
Redis is useless without it) and rotates nothing. Any other old token, or the previous one after the
window, means two parties hold it (one of them stole it): the whole session is revoked and both must
log in again. The scripts build key names from the prefix, so this needs a non-cluster Redis, as
`timeline.py` does.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
import time
from dataclasses import dataclass

import redis

from kafkagram.auth.tokens import TokenError

SESSION_TTL_S = 30 * 86_400
# How long the token a rotation replaced still refreshes (two tabs racing; a response lost on a flaky
# network). Short, because during it a stolen previous token works as well as the current one.
REFRESH_GRACE_S = 30
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128  # a real token is 43 characters; anything far longer is not worth hashing
MAX_USER_AGENT_LENGTH = 256  # what the session list shows; a header can be kilobytes
# The session list shows where a session was used without keeping anyone's exact address.
COARSE_IPV4_PREFIX = 24
COARSE_IPV6_PREFIX = 48

# KEYS[1]: record of the presented token. ARGV: key prefix, presented hash, new hash, TTL s, now,
# user agent, ip, grace ms, the new token sealed with the presented one.
# Returns {"ok", uid, sid}, {"grace", uid, sid, sealed current token}, {"reused", uid, sid} or {"invalid"}.
_ROTATE_SCRIPT = """
local sid = redis.call('GET', KEYS[1])
if not sid then return {'invalid'} end
local prefix = ARGV[1]
local skey = prefix .. 'session:' .. sid
local gkey = prefix .. 'grace:' .. sid
local session = redis.call('HMGET', skey, 'user_id', 'current', 'previous')
local uid, current, previous = session[1], session[2], session[3]
if not uid then return {'invalid'} end
if current == ARGV[2] then
  redis.call('SET', prefix .. 'refresh:' .. ARGV[3], sid, 'EX', ARGV[4])
  redis.call('HSET', skey, 'current', ARGV[3], 'previous', ARGV[2], 'last_used_at', ARGV[5],
             'user_agent', ARGV[6], 'ip', ARGV[7])
  redis.call('EXPIRE', skey, ARGV[4])
  redis.call('EXPIRE', prefix .. 'user:' .. uid .. ':sessions', ARGV[4])
  if tonumber(ARGV[8]) > 0 then
    redis.call('SET', gkey, ARGV[9], 'PX', ARGV[8])
  else
    redis.call('DEL', gkey)
  end
  return {'ok', uid, sid}
end
if previous == ARGV[2] then
  local sealed = redis.call('GET', gkey)
  if sealed then
    redis.call('HSET', skey, 'last_used_at', ARGV[5], 'user_agent', ARGV[6], 'ip', ARGV[7])
    return {'grace', uid, sid, sealed}
  end
end
redis.call('DEL', skey, gkey)
redis.call('SREM', prefix .. 'user:' .. uid .. ':sessions', sid)
return {'reused', uid, sid}
"""

# KEYS[1]: record of the presented token. ARGV[1]: key prefix. Ends the token's session; returns its id
# if it was live. Any token of the family logs it out: whoever holds one may end the session.
_REVOKE_SCRIPT = """
local sid = redis.call('GET', KEYS[1])
if not sid then return false end
local skey = ARGV[1] .. 'session:' .. sid
local uid = redis.call('HGET', skey, 'user_id')
redis.call('DEL', KEYS[1])
if not uid then return false end
redis.call('DEL', skey, ARGV[1] .. 'grace:' .. sid)
redis.call('SREM', ARGV[1] .. 'user:' .. uid .. ':sessions', sid)
return sid
"""

# KEYS[1]: the user's session set. ARGV: key prefix, user id, session id. Ends that session if it is the
# user's (a session id of someone else ends nothing); returns 1 if it did.
_REVOKE_ONE_SCRIPT = """
local skey = ARGV[1] .. 'session:' .. ARGV[3]
if redis.call('HGET', skey, 'user_id') ~= ARGV[2] then return 0 end
redis.call('DEL', skey, ARGV[1] .. 'grace:' .. ARGV[3])
redis.call('SREM', KEYS[1], ARGV[3])
return 1
"""

# KEYS[1]: the user's session set. ARGV: key prefix, session id to keep ('' for none). Ends every other
# session; returns their ids.
_REVOKE_ALL_SCRIPT = """
local ended = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if sid ~= ARGV[2] then
    redis.call('DEL', ARGV[1] .. 'session:' .. sid, ARGV[1] .. 'grace:' .. sid)
    redis.call('SREM', KEYS[1], sid)
    table.insert(ended, sid)
  end
end
return ended
"""


@dataclass(frozen=True)
class RefreshGrant:
    """A refresh token to hand to the client (once: only its hash is kept)."""

    token: str
    user_id: str
    session_id: str
    expires_in_s: int


@dataclass(frozen=True)
class SessionInfo:
    """One live session, as the session list shows it."""

    session_id: str
    created_at: float
    last_used_at: float
    user_agent: str
    ip: str


def token_hash(token: str) -> str:
    # SHA-256 without salt is enough: the token has 256 random bits, nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def coarse_ip(source_ip: str) -> str:
    """Where a session was used, coarsely: an IPv4 /24 or an IPv6 /48 ("" when unknown)."""
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = COARSE_IPV4_PREFIX if isinstance(address, ipaddress.IPv4Address) else COARSE_IPV6_PREFIX
    return str(ipaddress.ip_network((address, prefix), strict=False))


class RefreshSessions:
    def __init__(self, client: redis.Redis, prefix: str = "", ttl_s: int = SESSION_TTL_S,
                 grace_ms: int = REFRESH_GRACE_S * 1000) -> None:
        self._redis = client
        self._prefix = f"{prefix}auth:"
        self._ttl_s = ttl_s
        self._grace_ms = grace_ms
        self._rotate = client.register_script(_ROTATE_SCRIPT)
        self._revoke = client.register_script(_REVOKE_SCRIPT)
        self._revoke_one = client.register_script(_REVOKE_ONE_SCRIPT)
        self._revoke_all = client.register_script(_REVOKE_ALL_SCRIPT)

    def create(self, user_id: int | str, *, user_agent: str = "", ip: str = "") -> RefreshGrant:
        """Start a session at login; one MULTI round trip. `ip` is stored as given: pass `coarse_ip`."""
        uid, session_id = str(user_id), secrets.token_urlsafe(16)
        token = _encode(secrets.token_bytes(TOKEN_BYTES))
        session_key, sessions_key = self._session_key(session_id), self._user_sessions_key(uid)
        now = repr(time.time())
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self._token_key(token), session_id, ex=self._ttl_s)
        pipe.hset(session_key, mapping={"user_id": uid, "current": token_hash(token), "created_at": now,
                                        "last_used_at": now, "user_agent": _agent(user_agent), "ip": ip})
        pipe.expire(session_key, self._ttl_s)
        pipe.sadd(sessions_key, session_id)
        pipe.expire(sessions_key, self._ttl_s)
        pipe.execute()
        return RefreshGrant(token, uid, session_id, self._ttl_s)

    def rotate(self, token: str, *, user_agent: str = "", ip: str = "") -> RefreshGrant:
        """Exchange a refresh token for a new one (within the grace window, the previous token gets the
        current one back); TokenError("invalid" | "reused") otherwise."""
        raw = secrets.token_bytes(TOKEN_BYTES)
        new_token = _encode(raw)
        presented = token_hash(_bounded(token))
        reply = self._rotate(keys=[f"{self._prefix}refresh:{presented}"], args=[
            self._prefix, presented, token_hash(new_token), self._ttl_s, repr(time.time()), _agent(user_agent),
            ip, self._grace_ms, _seal(raw, token).hex()])
        outcome, *rest = (_text(value) for value in reply)
        if outcome == "reused":
            raise TokenError("reused", "refresh token already used; the session was revoked")
        if outcome == "grace":
            user_id, session_id, sealed = rest
            return RefreshGrant(_encode(_seal(bytes.fromhex(sealed), token)), user_id, session_id, self._ttl_s)
        if outcome != "ok":
            raise TokenError("invalid", "invalid or expired refresh token")
        user_id, session_id = rest
        return RefreshGrant(new_token, user_id, session_id, self._ttl_s)

    def revoke(self, token: str) -> str | None:
        """Logout: end the token's session; its id, or None if it was already over (logout stays
        idempotent)."""
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        ended = self._revoke(keys=[self._token_key(token)], args=[self._prefix])
        return _text(ended) if ended else None

    def revoke_session(self, user_id: int | str, session_id: str) -> bool:
        """End one session of the user's; False if it is not a live session of theirs."""
        return bool(self._revoke_one(keys=[self._user_sessions_key(str(user_id))],
                                     args=[self._prefix, str(user_id), session_id]))

    def revoke_all(self, user_id: int | str, *, keep: str | None = None) -> list[str]:
        """End every session of a user but `keep` (password change, "log out everywhere"); their ids."""
        ended = self._revoke_all(keys=[self._user_sessions_key(str(user_id))], args=[self._prefix, keep or ""])
        return [_text(sid) for sid in ended]

    def sessions_of(self, user_id: int | str) -> list[SessionInfo]:
        """The user's live sessions, most recently used first (ids of expired ones are dropped)."""
        sessions_key = self._user_sessions_key(str(user_id))
        ids = sorted(_text(sid) for sid in self._redis.smembers(sessions_key))
        pipe = self._redis.pipeline(transaction=False)
        for session_id in ids:
            pipe.hgetall(self._session_key(session_id))
        found, stale = [], []
        for session_id, fields in zip(ids, pipe.execute(), strict=True):
            data = {_text(k): _text(v) for k, v in fields.items()}
            if data.get("user_id") != str(user_id):
                stale.append(session_id)
                continue
            found.append(SessionInfo(session_id, float(data.get("created_at") or 0),
                                     float(data.get("last_used_at") or 0), data.get("user_agent", ""),
                                     data.get("ip", "")))
        if stale:
            self._redis.srem(sessions_key, *stale)
        return sorted(found, key=lambda s: (s.last_used_at, s.session_id), reverse=True)

    def is_live(self, session_id: str) -> bool:
        return bool(self._redis.exists(self._session_key(session_id)))

    def _token_key(self, token: str) -> str:
        return f"{self._prefix}refresh:{token_hash(token)}"

    def _session_key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    def grace_key(self, session_id: str) -> str:
        return f"{self._prefix}grace:{session_id}"

    def _user_sessions_key(self, user_id: str) -> str:
        return f"{self._prefix}user:{user_id}:sessions"


def _seal(raw: bytes, previous_token: str) -> bytes:
    """XOR with a pad only the previous token's holder can make: Redis keeps the sealed bytes, which
    reveal nothing without that token (a one-time pad: each previous token seals one new token)."""
    pad = hashlib.sha256(b"kafkagram refresh grace\0" + previous_token.encode()).digest()
    return bytes(a ^ b for a, b in zip(raw, pad, strict=True))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # as secrets.token_urlsafe


def _agent(user_agent: str) -> str:
    return user_agent[:MAX_USER_AGENT_LENGTH]


def _bounded(token: str) -> str:
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenError("invalid", "invalid or expired refresh token")
    return token


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
