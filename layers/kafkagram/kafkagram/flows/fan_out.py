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

`timeline-updated` names a chunk of recipients (version 2): the connected followers are grouped by
shard (`timeline_shard`: a hash of the user id; the Kafka key), so each user's updates stay in order on one
partition, and a post costs one outbox row and one Kafka record per chunk, not per follower.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kafkagram.connections import ConnectionRegistry
from kafkagram.db import Database
from kafkagram.events import TIMELINE_UPDATED, Event, new_event
from kafkagram.events.catalog import TIMELINE_RECIPIENTS_MAX, timeline_shard
from kafkagram.events.reading import PostCreated, PostDeleted, read_data
from kafkagram.idempotency import first_time, first_times
from kafkagram.outbox import enqueue_alike
from kafkagram.store.follows import follower_ids
from kafkagram.timeline import FeedManager, NewPost

CONSUMER = "fan-out"  # its name in processed_events


@dataclass(frozen=True)
class FanOutOutcome:
    duplicate: bool = False  # already applied: nothing done
    followers: int = 0
    written: int = 0  # timelines that gained (or lost) the post now
    large_account: bool = False  # no follower timeline written: followers merge the post at read time
    notified: list[int] = field(default_factory=list)  # recipients of a timeline-updated event


def fan_out_posts(database: Database, feeds: FeedManager, registry: ConnectionRegistry,
                  events: Sequence[Event]) -> list[FanOutOutcome]:
    """post-created (a run of them, in one transaction): into the author's and the active followers'
    timelines; the connected ones are told. The markers and the audiences cost one statement each (a
    large account's followers are not read), the timelines a few round trips (`FeedManager.fan_out_many`),
    the registry one, the updates one INSERT."""
    posts = [read_data(event, PostCreated) for event in events]
    with database.transaction() as conn:
        new = first_times(conn, CONSUMER, [event.id for event in events])
        firsts = {event.id: index for index, event in reversed(list(enumerate(events)))}  # twice in a batch: once
        todo = [index for index, event in enumerate(events) if event.id in new and firsts[event.id] == index]
        audiences = feeds.audiences(conn, list(dict.fromkeys(posts[index].author_id for index in todo)))
        done = feeds.fan_out_many([NewPost(posts[i].post_id, posts[i].author_id, audiences.get(posts[i].author_id, []))
                                   for i in todo])
        connected = set(registry.connected(list(dict.fromkeys(u for result in done for u in result.active))))
        outcomes = [FanOutOutcome(duplicate=True)] * len(events)
        updates: list[Event] = []
        for index, result in zip(todo, done, strict=True):
            notified = [user_id for user_id in result.active if user_id in connected]
            updates.extend(_updates(notified, "added", posts[index].post_id, posts[index].author_id))
            outcomes[index] = FanOutOutcome(followers=len(audiences.get(posts[index].author_id) or ()),
                                            written=len(result.recipients), large_account=result.large_account,
                                            notified=notified)
        enqueue_alike(conn, updates)
    return outcomes


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
        enqueue_alike(conn, _updates(notified, "removed", data.post_id, data.author_id))
    return FanOutOutcome(followers=len(followers), written=len(removed), notified=notified)


def _updates(user_ids: Sequence[int], action: str, post_id: int, author_id: int) -> list[Event]:
    return [new_event(TIMELINE_UPDATED, {
        "shard": str(shard), "recipient_ids": [str(user_id) for user_id in chunk], "action": action,
        "post_ids": [str(post_id)], "author_id": str(author_id)}, author_id)
        for shard, chunk in recipient_chunks(user_ids)]


def recipient_chunks(user_ids: Sequence[int]) -> list[tuple[int, list[int]]]:
    """(shard, up to TIMELINE_RECIPIENTS_MAX users of that shard), in shard order, users in the order given."""
    by_shard: dict[int, list[int]] = {}
    for user_id in user_ids:
        by_shard.setdefault(timeline_shard(user_id), []).append(user_id)
    return [(shard, users[start:start + TIMELINE_RECIPIENTS_MAX])
            for shard, users in sorted(by_shard.items())
            for start in range(0, len(users), TIMELINE_RECIPIENTS_MAX)]
