"""Explore: posts created, deleted, liked, unliked, commented on or uncommented -> Discovery's popular
posts and trending tags (`kafkagram.explore`).

Every event only names a post; Discovery then sets that post's entries from its row in PostgreSQL. So
a batch costs one query and one Redis call whatever it holds, needs no processed-event markers (the
second delivery of an event writes what the first did), and events of one post on two topics
(post-events and interaction-events, two mappings) may be handled in either order.
"""

from __future__ import annotations

from collections.abc import Sequence

from kafkagram.db import Database
from kafkagram.events import (
    COMMENT_ADDED,
    COMMENT_DELETED,
    LIKE_GIVEN,
    LIKE_REMOVED,
    POST_CREATED,
    POST_DELETED,
    Event,
    EventData,
    read_data,
)
from kafkagram.explore import Discovery, SyncOutcome

SYNCED_TYPES = (POST_CREATED, POST_DELETED, LIKE_GIVEN, LIKE_REMOVED, COMMENT_ADDED, COMMENT_DELETED)


class PostTouched(EventData):
    """The one field this flow reads: every one of these types carries the post (its Kafka key)."""

    TYPES = SYNCED_TYPES
    post_id: int


def sync_posts(database: Database, discovery: Discovery, events: Sequence[Event]) -> SyncOutcome:
    """The posts of a batch (each once, whatever number of events name it), synced in one query and one
    script call. An event it cannot read raises UnexpectedEvent: the batch runner diverts it and calls
    again without it."""
    post_ids = [read_data(event, PostTouched).post_id for event in events]
    return database.read(lambda conn: discovery.sync(conn, post_ids))
