"""Refresh tokens: opaque, rotated on every use, with reuse detection (OAuth 2.0 Security BCP 4.14).

Why Redis: a refresh or logout must take effect at once for every function, and each operation is
one key lookup with a TTL, which Redis does in one round trip and expires by itself. PostgreSQL
would do as well (a table with an expiry column and a cleanup job); nothing here needs a join.

Layout, under `<prefix>auth:`:
- `refresh:<sha256(token)>` -> session id, TTL SESSION_TTL_S from the token's issue. Only the hash is
  stored, so a copy of Redis yields no usable token. Rotated tokens keep their record until it
  expires: that is how a replayed old token is recognised.
- `session:<session id>` (hash) -> user_id, current (hash of the one valid token); TTL renewed on
  every rotation, so a session ends after SESSION_TTL_S without use.
- `user:<user id>:sessions` (set) -> session ids, for "log out everywhere" (password change).

Each token belongs to a session (a "family"). Refreshing with the current token rotates it;
refreshing with an older token of the family means two parties hold it (one of them stole it), so
the whole session is revoked and both must log in again. Strict: two tabs refreshing at the same
instant also end the session. The scripts build key names from the prefix, so this needs a
non-cluster Redis, as `timeline.py` does.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import redis

from kafkagram.auth.tokens import TokenError

SESSION_TTL_S = 30 * 86_400
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128  # a real token is 43 characters; anything far longer is not worth hashing

# KEYS[1]: record of the presented token. ARGV: key prefix, presented hash, new hash, TTL.
# Returns {"ok", user_id, session_id}, {"reused", user_id, session_id} or {"invalid"}.
_ROTATE_SCRIPT = """
local sid = redis.call('GET', KEYS[1])
if not sid then return {'invalid'} end
local prefix = ARGV[1]
local skey = prefix .. 'session:' .. sid
local session = redis.call('HMGET', skey, 'user_id', 'current')
local uid, current = session[1], session[2]
if not uid then return {'invalid'} end
if current ~= ARGV[2] then
  redis.call('DEL', skey)
  redis.call('SREM', prefix .. 'user:' .. uid .. ':sessions', sid)
  return {'reused', uid, sid}
end
redis.call('SET', prefix .. 'refresh:' .. ARGV[3], sid, 'EX', ARGV[4])
redis.call('HSET', skey, 'current', ARGV[3])
redis.call('EXPIRE', skey, ARGV[4])
redis.call('EXPIRE', prefix .. 'user:' .. uid .. ':sessions', ARGV[4])
return {'ok', uid, sid}
"""

# KEYS[1]: record of the presented token. ARGV[1]: key prefix. Ends the token's session; returns 1 if
# it was live. Any token of the family logs it out: whoever holds one may end the session.
_REVOKE_SCRIPT = """
local sid = redis.call('GET', KEYS[1])
if not sid then return 0 end
local skey = ARGV[1] .. 'session:' .. sid
local uid = redis.call('HGET', skey, 'user_id')
redis.call('DEL', KEYS[1])
if not uid then return 0 end
redis.call('DEL', skey)
redis.call('SREM', ARGV[1] .. 'user:' .. uid .. ':sessions', sid)
return 1
"""

# KEYS[1]: the user's session set. ARGV[1]: key prefix. Ends every session; returns how many.
_REVOKE_ALL_SCRIPT = """
local sids = redis.call('SMEMBERS', KEYS[1])
for _, sid in ipairs(sids) do redis.call('DEL', ARGV[1] .. 'session:' .. sid) end
redis.call('DEL', KEYS[1])
return #sids
"""


@dataclass(frozen=True)
class RefreshGrant:
    """A refresh token to hand to the client (once: only its hash is kept)."""

    token: str
    user_id: str
    session_id: str
    expires_in_s: int


def token_hash(token: str) -> str:
    # SHA-256 without salt is enough: the token has 256 random bits, nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


class RefreshSessions:
    def __init__(self, client: redis.Redis, prefix: str = "", ttl_s: int = SESSION_TTL_S) -> None:
        self._redis = client
        self._prefix = f"{prefix}auth:"
        self._ttl_s = ttl_s
        self._rotate = client.register_script(_ROTATE_SCRIPT)
        self._revoke = client.register_script(_REVOKE_SCRIPT)
        self._revoke_all = client.register_script(_REVOKE_ALL_SCRIPT)

    def create(self, user_id: int | str) -> RefreshGrant:
        """Start a session at login; one MULTI round trip."""
        uid, session_id, token = str(user_id), secrets.token_urlsafe(16), secrets.token_urlsafe(TOKEN_BYTES)
        session_key, sessions_key = self._session_key(session_id), self._user_sessions_key(uid)
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self._token_key(token), session_id, ex=self._ttl_s)
        pipe.hset(session_key, mapping={"user_id": uid, "current": token_hash(token)})
        pipe.expire(session_key, self._ttl_s)
        pipe.sadd(sessions_key, session_id)
        pipe.expire(sessions_key, self._ttl_s)
        pipe.execute()
        return RefreshGrant(token, uid, session_id, self._ttl_s)

    def rotate(self, token: str) -> RefreshGrant:
        """Exchange a refresh token for a new one; TokenError("invalid" | "reused") otherwise."""
        new_token = secrets.token_urlsafe(TOKEN_BYTES)
        presented = token_hash(_bounded(token))
        reply = self._rotate(keys=[f"{self._prefix}refresh:{presented}"],
                             args=[self._prefix, presented, token_hash(new_token), self._ttl_s])
        outcome, *rest = (_text(value) for value in reply)
        if outcome == "reused":
            raise TokenError("reused", "refresh token already used; the session was revoked")
        if outcome != "ok":
            raise TokenError("invalid", "invalid or expired refresh token")
        user_id, session_id = rest
        return RefreshGrant(new_token, user_id, session_id, self._ttl_s)

    def revoke(self, token: str) -> bool:
        """Logout: end the token's session. False if it was already over (logout stays idempotent)."""
        if len(token) > MAX_TOKEN_LENGTH:
            return False
        return bool(self._revoke(keys=[self._token_key(token)], args=[self._prefix]))

    def revoke_all(self, user_id: int | str) -> int:
        """End every session of a user (password change, "log out everywhere")."""
        return int(self._revoke_all(keys=[self._user_sessions_key(str(user_id))], args=[self._prefix]))

    def _token_key(self, token: str) -> str:
        return f"{self._prefix}refresh:{token_hash(token)}"

    def _session_key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    def _user_sessions_key(self, user_id: str) -> str:
        return f"{self._prefix}user:{user_id}:sessions"


def _bounded(token: str) -> str:
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenError("invalid", "invalid or expired refresh token")
    return token


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
