"""The WebSocket connection registry in Redis: the one owner of who has which connection open.

Two kinds of keys, written by the WebSocket routes and read by fan-out (`connected`) and push
(`connections_of`):
- `ws:user:<user id>`: a set of that user's open connection ids; a user is connected while their set
  exists (Redis drops an emptied set);
- `ws:conn:<connection id>`: the user id, so `$disconnect` and `ping` (whose events carry only the
  connection id) find the set to update.

Both expire after CONNECTION_TTL_S unless refreshed: a lost `$disconnect` (a crashed function, a
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


class ConnectionRegistry:
    def __init__(self, client: redis.Redis, prefix: str = "", ttl_s: int = CONNECTION_TTL_S) -> None:
        self._redis = client
        self._prefix = prefix  # the same prefix as the FeedManager's keys (tests isolate with it)
        self.ttl_s = ttl_s

    def user_key(self, user_id: int) -> str:
        return f"{self._prefix}ws:user:{user_id}"

    def connection_key(self, connection_id: str) -> str:
        return f"{self._prefix}ws:conn:{connection_id}"

    # Written by the WebSocket routes ---------------------------------------------------------------

    def register(self, user_id: int, connection_id: str) -> None:
        # MULTI/EXEC: a set without its TTL (a crash between the commands) would never expire.
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self.connection_key(connection_id), str(user_id), ex=self.ttl_s)
        pipe.sadd(self.user_key(user_id), connection_id)
        pipe.expire(self.user_key(user_id), self.ttl_s)
        pipe.execute()

    def refresh(self, connection_id: str) -> int | None:
        """Extends both keys' TTL; the user id, or None when the connection is not (or no longer) known."""
        user_id = self.user_of(connection_id)
        if user_id is None:
            return None
        pipe = self._redis.pipeline(transaction=True)
        pipe.expire(self.connection_key(connection_id), self.ttl_s)
        pipe.sadd(self.user_key(user_id), connection_id)  # back in, should the set have expired first
        pipe.expire(self.user_key(user_id), self.ttl_s)
        pipe.execute()
        return user_id

    def unregister(self, connection_id: str) -> int | None:
        """Forgets the connection; returns its user id (None: unknown, e.g. already expired)."""
        value = self._redis.getdel(self.connection_key(connection_id))
        if value is None:
            return None
        user_id = int(value)  # bytes: int() parses them
        self._redis.srem(self.user_key(user_id), connection_id)  # an emptied set disappears: "offline"
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
        value = self._redis.get(self.connection_key(connection_id))
        return None if value is None else int(value)

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
