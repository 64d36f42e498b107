"""Fan-out: post-created puts the post into home timelines, post-deleted takes it out; followers with
an open WebSocket get `timeline-updated`.

The policy (who gets the post: the author and the active followers; large accounts merged at read time)
is the FeedManager's; this flow adds what surrounds it: reading the event, the followers from
PostgreSQL, idempotency and the live updates.

Idempotency: the marker (`processed_events`) and the `timeline-updated` outbox rows commit together.
The Redis writes happen before that COMMIT: an attempt that fails after them rolls back the marker and
its outbox rows, and the retry repeats the (idempotent) Redis writes and enqueues once. Live updates go
to the connected active followers, even one whose timeline already held the post (a follow backfill,
or the failed first attempt, got there first): a repeated "added" is harmless to a client, a lost one
is not.

`timeline-updated` is one event per recipient: its `user_id` is the Kafka key, so each user's updates
stay in order on one partition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kafkagram.connections import ConnectionRegistry
from kafkagram.db import Connection, Database
from kafkagram.events import TIMELINE_UPDATED, Event, new_event
from kafkagram.events.reading import PostCreated, PostDeleted, read_data
from kafkagram.idempotency import first_time
from kafkagram.outbox import enqueue_alike
from kafkagram.store.follows import follower_ids
from kafkagram.timeline import FeedManager

CONSUMER = "fan-out"  # its name in processed_events


@dataclass(frozen=True)
class FanOutOutcome:
    duplicate: bool = False  # already applied: nothing done
    followers: int = 0
    written: int = 0  # timelines that gained (or lost) the post now
    large_account: bool = False  # no follower timeline written: followers merge the post at read time
    notified: list[int] = field(default_factory=list)  # recipients of a timeline-updated event


def fan_out_post(database: Database, feeds: FeedManager, registry: ConnectionRegistry, event: Event) -> FanOutOutcome:
    """post-created: into the author's and the active followers' timelines; the connected ones are told."""
    data = read_data(event, PostCreated)
    with database.transaction() as conn:
        if not first_time(conn, CONSUMER, event.id):
            return FanOutOutcome(duplicate=True)
        followers = follower_ids(conn, data.author_id)
        done = feeds.fan_out(data.post_id, data.author_id, followers)
        notified = registry.connected(done.active)
        _tell(conn, notified, "added", data.post_id, data.author_id)
    return FanOutOutcome(followers=len(followers), written=len(done.recipients), large_account=done.large_account,
                         notified=notified)


def remove_post(database: Database, feeds: FeedManager, registry: ConnectionRegistry, event: Event) -> FanOutOutcome:
    """post-deleted: out of the author's and every follower's timeline (active or not: an inactive one's
    timeline may still exist, and a large account's post may have come in by a follow backfill); the
    connected followers whose timeline held it are told."""
    data = read_data(event, PostDeleted)
    with database.transaction() as conn:
        if not first_time(conn, CONSUMER, event.id):
            return FanOutOutcome(duplicate=True)
        followers = follower_ids(conn, data.author_id)
        removed = feeds.remove(data.post_id, [data.author_id, *followers])
        notified = registry.connected([user_id for user_id in removed if user_id != data.author_id])
        _tell(conn, notified, "removed", data.post_id, data.author_id)
    return FanOutOutcome(followers=len(followers), written=len(removed), notified=notified)


def _tell(conn: Connection, user_ids: Sequence[int], action: str, post_id: int, author_id: int) -> None:
    enqueue_alike(conn, [new_event(TIMELINE_UPDATED, {
        "user_id": str(user_id), "action": action, "post_ids": [str(post_id)], "author_id": str(author_id)},
        author_id) for user_id in user_ids])
