"""Push: timeline-updated and notification-created go to every open WebSocket of their recipients.

One registry lookup per batch; the frames go out concurrently (at most `concurrency` in flight), each
connection's in order; the connections API Gateway calls gone (410) are dropped from the registry
together.

What a connection receives is its user's view: a notification-created event as it is, and for a
timeline-updated event (which names a chunk of recipients) a frame of version 1's shape, addressed to
that one user, with the event's id. So no client learns who else was told, and clients written for
version 1 go on working.

Not exactly-once: when a send fails (other than 410), the batch is retried from that event, so
connections that already got it or a later event get them again. Clients tell duplicates apart by the
envelope's `id`; a lost live update would be worse than a repeated one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from kafkagram.connections import ConnectionRegistry
from kafkagram.events import NOTIFICATION_CREATED, TIMELINE_UPDATED, Event
from kafkagram.events.reading import NotificationCreated, TimelineUpdated, TimelineUpdatedV1, read_data

PUSHED_TYPES = (TIMELINE_UPDATED, NOTIFICATION_CREATED)
FRAME_VERSION = 1  # the timeline-updated shape clients receive: one recipient's

logger = logging.getLogger(__name__)

# send(connection_id, frame) -> False when the connection is gone (GoneException / 410).
Send = Callable[[str, bytes], Awaitable[bool]]
K = TypeVar("K")  # what identifies a queue of frames: its connection, or (user, connection)


@dataclass(frozen=True)
class PushReport:
    frames: int = 0  # frames to send: one per recipient's connection and event
    delivered: int = 0
    gone: list[str] = field(default_factory=list)  # connections dropped from the registry
    first_failed: int | None = None  # index of the first event a send failed for: retried from there


def frames_of(event: Event) -> list[tuple[int, bytes]]:
    """(user id, the frame that user's connections get) for each recipient of the event."""
    if event.type == NOTIFICATION_CREATED:
        return [(read_data(event, NotificationCreated).user_id, event.to_json().encode())]
    if event.version == FRAME_VERSION:  # written before version 2: already one recipient's frame
        return [(read_data(event, TimelineUpdatedV1).user_id, event.to_json().encode())]
    update = read_data(event, TimelineUpdated)
    envelope = {**event.to_dict(), "version": FRAME_VERSION}
    data = {"action": update.action, "post_ids": [str(p) for p in update.post_ids],
            "author_id": str(update.author_id)}
    return [(user_id, json.dumps({**envelope, "data": {"user_id": str(user_id), **data}},
                                 separators=(",", ":")).encode())
            for user_id in dict.fromkeys(update.recipient_ids)]


async def push_all(registry: ConnectionRegistry, send: Send, events: Sequence[Event], concurrency: int) -> PushReport:
    """Sends each event's frames to every open connection of its recipients."""
    frames = [(index, user_id, frame) for index, event in enumerate(events) for user_id, frame in frames_of(event)]
    connections = registry.connections_of(list(dict.fromkeys(user_id for _, user_id, _ in frames)))
    queues: dict[tuple[int, str], list[tuple[int, bytes]]] = {}
    for index, user_id, frame in frames:
        for connection_id in connections.get(user_id, []):
            queues.setdefault((user_id, connection_id), []).append((index, frame))
    results = await deliver(send, queues, concurrency, lambda connection: connection[1])
    gone = [connection for connection, result in results.items() if result.gone]
    registry.drop_all(gone)
    failed = [result.failed_at for result in results.values() if result.failed_at is not None]
    return PushReport(sum(len(queue) for queue in queues.values()), sum(r.delivered for r in results.values()),
                      [connection_id for _, connection_id in gone], min(failed, default=None))


@dataclass(frozen=True)
class ConnectionResult:
    delivered: int
    gone: bool = False
    failed_at: int | None = None  # the index of the frame whose send failed (not gone): retried from there


async def deliver(send: Send, queues: Mapping[K, Sequence[tuple[int, bytes]]], concurrency: int,
                  connection_id: Callable[[K], str]) -> dict[K, ConnectionResult]:
    """Sends each queue's (index, frame)s to its connection in order, the queues concurrently (at most
    `concurrency` sends in flight). A connection stops at its first failure: gone (410), or failed_at."""
    limit = asyncio.Semaphore(concurrency)

    async def send_in_order(key: K) -> ConnectionResult:
        delivered = 0
        for index, frame in queues[key]:
            try:
                async with limit:
                    if not await send(connection_id(key), frame):
                        return ConnectionResult(delivered, gone=True)
            except Exception:  # the other connections go on; this one is retried from this frame
                logger.warning("push failed", exc_info=True, extra={"connection_id": connection_id(key)})
                return ConnectionResult(delivered, failed_at=index)
            delivered += 1
        return ConnectionResult(delivered)

    return dict(zip(queues, await asyncio.gather(*map(send_in_order, queues)), strict=True))
