"""Follow graph: user-followed copies the followee's recent posts into the follower's home timeline
(a backfill), user-unfollowed takes them out.

Redis only, and idempotent by nature (ZADD NX, ZREM), so no marker is needed. The follow's current
state in PostgreSQL decides, not the event: a follow already undone (its user-unfollowed follows on the
same partition) must not leave the posts behind, whatever order replays come in.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkagram.db import Connection, Database
from kafkagram.events import USER_FOLLOWED, Event
from kafkagram.events.reading import Follow, read_data
from kafkagram.store.follows import is_following
from kafkagram.timeline import FeedManager


@dataclass(frozen=True)
class FollowOutcome:
    changed: int | None  # posts added or removed; None: timeline missing (the next read rebuilds it)
    stale: bool = False  # the follow state changed since the event: nothing to do


def apply_follow(database: Database, feeds: FeedManager, event: Event) -> FollowOutcome:
    """user-followed: backfill; user-unfollowed: unmerge; either skipped when the follow changed since."""
    data = read_data(event, Follow)
    followed = event.type == USER_FOLLOWED

    def apply(conn: Connection) -> FollowOutcome:
        if is_following(conn, data.follower_id, data.followee_id) != followed:
            return FollowOutcome(changed=0, stale=True)
        if followed:
            return FollowOutcome(changed=feeds.backfill(conn, data.follower_id, data.followee_id))
        return FollowOutcome(changed=feeds.unmerge_author(data.follower_id, data.followee_id))

    return database.read(apply)  # reads only: the Redis writes are idempotent if a retry repeats them
