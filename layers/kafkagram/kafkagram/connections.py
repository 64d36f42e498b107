"""The WebSocket connection registry in Redis: the one owner of who has which connection open.

Three kinds of keys, written by the WebSocket routes and read by fan-out (`connected`), push
(`connections_of`) and the API's session routes (`connections_of_sessions`):
- `ws:user:<user id>`: a set of that user's open connection ids; a user is connected while their set
  exists (Redis drops an emptied set);
- `ws:conn:<connection id>`: the user id, then a space and the refresh session id when the access
  token named one ("sid"), so `$disconnect` and `ping` (whose events carry only the connection id)
  find the sets to update;
- `ws:session:<session id>`: a set of the connection ids opened with that session's access tokens, so
  ending a session (logout, password change, revoke) can close its WebSockets.

All expire after CONNECTION_TTL_S unless refreshed: a lost `$disconnect` (a crashed function, a
Redis outage at the wrong moment) must not leave a user "connected" forever. API Gateway closes a
connection idle for 10 minutes, so clients ping more often than that anyway, and each ping refreshes
both keys. A member whose own key expired but whose set lives on is dropped at the first push that
gets GoneException.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

# AWS's idle timeout (10 min) plus a margin: an idle connection is closed by API Gateway before its
# keys expire, a pinging one never sees them expire.
CONNECTION_TTL_S = 11 * 60
LOOKUP_CHUNK = 1000  # users per pipelined round trip when asking who is connected

# KEYS: the user's set, the connection's key, then the session's set if any. ARGV: key prefix, connection
# id, the connection key's value, TTL s, most connections the user may hold (0: no cap).
# Returns 1 when registered, 0 when the user is at the cap. One script, so two simultaneous $connects
# cannot both take the last place.
_REGISTER_SCRIPT = """
local cap = tonumber(ARGV[5])
if cap > 0 and redis.call('SCARD', KEYS[1]) >= cap then
  -- members whose own key expired (a lost $disconnect) do not count
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if redis.call('EXISTS', ARGV[1] .. 'ws:conn:' .. member) == 0 then redis.call('SREM', KEYS[1], member) end
  end
  if redis.call('SCARD', KEYS[1]) >= cap then return 0 end
end
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
if KEYS[3] then
  redis.call('SADD', KEYS[3], ARGV[2])
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
return 1
"""


class ConnectionRegistry:
    def __init__(self, client: redis.Redis, prefix: str = "", ttl_s: int = CONNECTION_TTL_S) -> None:
        self._redis = client
        self._prefix = prefix  # the same prefix as the FeedManager's keys (tests isolate with it)
        self.ttl_s = ttl_s
        self._register = client.register_script(_REGISTER_SCRIPT)

    def user_key(self, user_id: int) -> str:
        return f"{self._prefix}ws:user:{user_id}"

    def connection_key(self, connection_id: str) -> str:
        return f"{self._prefix}ws:conn:{connection_id}"

    def session_key(self, session_id: str) -> str:
        return f"{self._prefix}ws:session:{session_id}"

    # Written by the WebSocket routes ---------------------------------------------------------------

    def register(self, user_id: int, connection_id: str, session_id: str | None = None, *,
                 max_per_user: int = 0) -> bool:
        """Records the connection (and its refresh session); False, recording nothing, when the user
        already holds `max_per_user` connections (0: no cap). One atomic script: a set without its TTL
        (a crash between commands) would never expire."""
        keys = [self.user_key(user_id), self.connection_key(connection_id)]
        if session_id:
            keys.append(self.session_key(session_id))
        value = f"{user_id} {session_id}" if session_id else str(user_id)
        return bool(self._register(keys=keys, args=[self._prefix, connection_id, value, self.ttl_s, max_per_user]))

    def refresh(self, connection_id: str) -> int | None:
        """Extends the keys' TTL; the user id, or None when the connection is not (or no longer) known."""
        owner = self.owner_of(connection_id)
        if owner is None:
            return None
        user_id, session_id = owner
        pipe = self._redis.pipeline(transaction=True)
        pipe.expire(self.connection_key(connection_id), self.ttl_s)
        pipe.sadd(self.user_key(user_id), connection_id)  # back in, should the set have expired first
        pipe.expire(self.user_key(user_id), self.ttl_s)
        if session_id:
            pipe.sadd(self.session_key(session_id), connection_id)
            pipe.expire(self.session_key(session_id), self.ttl_s)
        pipe.execute()
        return user_id

    def unregister(self, connection_id: str) -> int | None:
        """Forgets the connection; returns its user id (None: unknown, e.g. already expired)."""
        value = self._redis.getdel(self.connection_key(connection_id))
        if value is None:
            return None
        user_id, session_id = _owner(value)
        pipe = self._redis.pipeline(transaction=False)
        pipe.srem(self.user_key(user_id), connection_id)  # an emptied set disappears: "offline"
        if session_id:
            pipe.srem(self.session_key(session_id), connection_id)
        pipe.execute()
        return user_id

    def drop_all(self, gone: Sequence[tuple[int, str]]) -> None:
        """Removes connections the gateway says are gone, (user id, connection id) pairs: one round trip."""
        if not gone:
            return
        pipe = self._redis.pipeline(transaction=False)
        for user_id, connection_id in gone:
            pipe.srem(self.user_key(user_id), connection_id)
            pipe.delete(self.connection_key(connection_id))
        pipe.execute()

    # Read by fan-out and push ----------------------------------------------------------------------

    def user_of(self, connection_id: str) -> int | None:
        owner = self.owner_of(connection_id)
        return None if owner is None else owner[0]

    def owner_of(self, connection_id: str) -> tuple[int, str | None] | None:
        """(user id, refresh session id or None) of a known connection."""
        value = self._redis.get(self.connection_key(connection_id))
        return None if value is None else _owner(value)

    def connections_of_sessions(self, session_ids: Sequence[str]) -> list[str]:
        """The connection ids opened with these refresh sessions' tokens: one round trip. May name a
        connection already gone (its set member outlives a lost $disconnect); closing it answers 410."""
        if not session_ids:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for session_id in session_ids:
            pipe.smembers(self.session_key(session_id))
        return sorted({m.decode() if isinstance(m, bytes) else str(m) for members in pipe.execute() for m in members})

    def count_of(self, user_id: int) -> int:
        return int(self._redis.scard(self.user_key(user_id)))

    def connected(self, user_ids: Sequence[int]) -> list[int]:
        """The users with a connection, in the order given: one pipelined EXISTS per user, one round trip
        per LOOKUP_CHUNK users (EXISTS of many keys only counts them, so it cannot say which)."""
        result: list[int] = []
        for start in range(0, len(user_ids), LOOKUP_CHUNK):
            chunk = user_ids[start:start + LOOKUP_CHUNK]
            pipe = self._redis.pipeline(transaction=False)
            for user_id in chunk:
                pipe.exists(self.user_key(user_id))
            result.extend(u for u, n in zip(chunk, pipe.execute(), strict=True) if n)
        return result

    def connections_of(self, user_ids: Sequence[int]) -> dict[int, list[str]]:
        """Each given user's open connection ids (users without any are left out): one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.smembers(self.user_key(user_id))
        found: dict[int, list[str]] = {}
        for user_id, members in zip(user_ids, pipe.execute(), strict=True):
            if members:
                found[user_id] = sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
        return found


def _owner(value: bytes | str) -> tuple[int, str | None]:
    text = value.decode() if isinstance(value, bytes) else value
    user_id, _, session_id = text.partition(" ")
    return int(user_id), session_id or None
