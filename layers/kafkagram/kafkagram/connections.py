"""The WebSocket connection registry in Redis (issue 4: the WebSocket routes and handler 7, Push).

Two kinds of keys, written by the WebSocket routes and read by the push handler:
- `ws:user:<user id>`: a set of that user's open connection ids. `flows.Presence` checks that this
  key exists to decide whom to send `timeline-updated`, so the name must stay exactly this;
- `ws:conn:<connection id>`: the user id, so `$disconnect` and `ping` (whose events carry only the
  connection id) find the set to update.

Both expire after CONNECTION_TTL_S unless refreshed: a lost `$disconnect` (a crashed function, a
Redis outage at the wrong moment) must not leave a user "connected" forever. API Gateway closes a
connection idle for 10 minutes, so clients ping more often than that anyway, and each ping refreshes
both keys. A member whose own key expired but whose set lives on is dropped at the first push that
gets GoneException.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import redis

from kafkagram.events import Event

# AWS's idle timeout (10 min) plus a margin: an idle connection is closed by API Gateway before its
# keys expire, a pinging one never sees them expire.
CONNECTION_TTL_S = 11 * 60
PUSHED_TYPES = ("timeline-updated", "notification-created")

logger = logging.getLogger(__name__)

# post(connection_id, data) -> False when the connection is gone (GoneException / 410).
Post = Callable[[str, bytes], bool]


class ConnectionRegistry:
    def __init__(self, client: redis.Redis, prefix: str = "", ttl_s: int = CONNECTION_TTL_S) -> None:
        self._redis = client
        self._prefix = prefix  # the same prefix as flows.Presence and the FeedManager (tests isolate with it)
        self.ttl_s = ttl_s

    def user_key(self, user_id: int) -> str:
        return f"{self._prefix}ws:user:{user_id}"

    def connection_key(self, connection_id: str) -> str:
        return f"{self._prefix}ws:conn:{connection_id}"

    def register(self, user_id: int, connection_id: str) -> None:
        # MULTI/EXEC: a set without its TTL (a crash between the commands) would never expire.
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self.connection_key(connection_id), str(user_id), ex=self.ttl_s)
        pipe.sadd(self.user_key(user_id), connection_id)
        pipe.expire(self.user_key(user_id), self.ttl_s)
        pipe.execute()

    def user_of(self, connection_id: str) -> int | None:
        value = self._redis.get(self.connection_key(connection_id))
        return None if value is None else int(value)

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


@dataclass(frozen=True)
class PushReport:
    delivered: int = 0
    gone: list[str] = field(default_factory=list)  # connections dropped from the registry
    first_failed: int | None = None  # index of the first event a send failed for: retried from there


def recipient_of(event: Event) -> int:
    """Both pushed types name their one recipient in `data.user_id` (also their Kafka key)."""
    if event.type not in PUSHED_TYPES:
        raise ValueError(f"push does not handle {event.type}")
    return int(event.data["user_id"])


def push_all(registry: ConnectionRegistry, post: Post, events: Sequence[Event], pool: Executor) -> PushReport:
    """Sends each event's JSON envelope to every open connection of its recipient: one registry round
    trip for the whole batch; connections served in parallel on `pool`, each one's events in order; the
    gone connections dropped together.

    Not exactly-once: when a send fails (other than 410), the batch is retried from that event, so
    connections that already got it or a later event get them again. Clients tell duplicates apart by
    the envelope's `id`; a lost live update would be worse than a repeated one."""
    recipients = [recipient_of(event) for event in events]
    connections = registry.connections_of(list(dict.fromkeys(recipients)))
    queues: dict[tuple[int, str], list[tuple[int, bytes]]] = {}
    for index, (user_id, event) in enumerate(zip(recipients, events, strict=True)):
        data = event.to_json().encode()
        for connection_id in connections.get(user_id, []):
            queues.setdefault((user_id, connection_id), []).append((index, data))

    def send_in_order(connection: tuple[int, str]) -> ConnectionResult:
        delivered = 0
        for index, data in queues[connection]:
            try:
                if not post(connection[1], data):
                    return ConnectionResult(delivered, gone=True)
            except Exception:  # the other connections go on; this one is retried from this event
                logger.warning("push failed", exc_info=True, extra={"connection_id": connection[1]})
                return ConnectionResult(delivered, failed_at=index)
            delivered += 1
        return ConnectionResult(delivered)

    results = dict(zip(queues, pool.map(send_in_order, queues), strict=True))
    gone = [connection for connection, result in results.items() if result.gone]
    registry.drop_all(gone)
    failed = [result.failed_at for result in results.values() if result.failed_at is not None]
    return PushReport(sum(result.delivered for result in results.values()),
                      [connection_id for _, connection_id in gone], min(failed, default=None))


@dataclass(frozen=True)
class ConnectionResult:
    delivered: int
    gone: bool = False
    failed_at: int | None = None
