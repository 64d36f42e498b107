"""Push: timeline-updated and notification-created go to every open WebSocket of their recipient.

One registry lookup per batch; connections served in parallel, each one's events in order; the
connections API Gateway calls gone (410) dropped from the registry together.

Not exactly-once: when a send fails (other than 410), the batch is retried from that event, so
connections that already got it or a later event get them again. Clients tell duplicates apart by the
envelope's `id`; a lost live update would be worse than a repeated one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from kafkagram.connections import ConnectionRegistry
from kafkagram.events import NOTIFICATION_CREATED, TIMELINE_UPDATED, Event
from kafkagram.events.reading import Recipient, read_data

PUSHED_TYPES = (TIMELINE_UPDATED, NOTIFICATION_CREATED)

logger = logging.getLogger(__name__)

# post(connection_id, data) -> False when the connection is gone (GoneException / 410).
Post = Callable[[str, bytes], bool]


@dataclass(frozen=True)
class PushReport:
    delivered: int = 0
    gone: list[str] = field(default_factory=list)  # connections dropped from the registry
    first_failed: int | None = None  # index of the first event a send failed for: retried from there


@dataclass(frozen=True)
class _ConnectionResult:
    delivered: int
    gone: bool = False
    failed_at: int | None = None


def push_all(registry: ConnectionRegistry, post: Post, events: Sequence[Event], pool: Executor) -> PushReport:
    """Sends each event's JSON envelope to every open connection of its recipient."""
    recipients = [read_data(event, Recipient).user_id for event in events]
    connections = registry.connections_of(list(dict.fromkeys(recipients)))
    queues: dict[tuple[int, str], list[tuple[int, bytes]]] = {}
    for index, (user_id, event) in enumerate(zip(recipients, events, strict=True)):
        data = event.to_json().encode()
        for connection_id in connections.get(user_id, []):
            queues.setdefault((user_id, connection_id), []).append((index, data))

    def send_in_order(connection: tuple[int, str]) -> _ConnectionResult:
        delivered = 0
        for index, data in queues[connection]:
            try:
                if not post(connection[1], data):
                    return _ConnectionResult(delivered, gone=True)
            except Exception:  # the other connections go on; this one is retried from this event
                logger.warning("push failed", exc_info=True, extra={"connection_id": connection[1]})
                return _ConnectionResult(delivered, failed_at=index)
            delivered += 1
        return _ConnectionResult(delivered)

    results = dict(zip(queues, pool.map(send_in_order, queues), strict=True))
    gone = [connection for connection, result in results.items() if result.gone]
    registry.drop_all(gone)
    failed = [result.failed_at for result in results.values() if result.failed_at is not None]
    return PushReport(sum(result.delivered for result in results.values()),
                      [connection_id for _, connection_id in gone], min(failed, default=None))
