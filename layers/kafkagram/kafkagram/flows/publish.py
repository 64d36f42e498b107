"""Publication: media-processed publishes the posts waiting for that media once all their media are
ready (post-created), or makes a processed avatar its owner's profile picture (profile-updated);
media-failed fails the posts waiting for it, with its reason, so they do not stay pending forever.

Idempotent: the marker (`processed_events`) and the changes commit in one transaction, and
publication only moves a pending post, so post-created is emitted once per post.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kafkagram.db import Database
from kafkagram.events import Event
from kafkagram.events.reading import MediaFailed, MediaProcessed, read_data
from kafkagram.idempotency import first_time
from kafkagram.store import posts as posts_store
from kafkagram.store import users as users_store

CONSUMER = "publish-post"  # its name in processed_events


@dataclass(frozen=True)
class PublishOutcome:
    duplicate: bool = False
    published: list[int] = field(default_factory=list)  # posts now published
    failed: list[int] = field(default_factory=list)  # posts now failed
    avatar_set: bool = False


def media_processed(database: Database, event: Event) -> PublishOutcome:
    data = read_data(event, MediaProcessed)
    with database.transaction() as conn:
        if not first_time(conn, CONSUMER, event.id):
            return PublishOutcome(duplicate=True)
        if data.purpose == "avatar":
            return PublishOutcome(avatar_set=users_store.set_avatar_if_newer(conn, data.owner_id, data.media_id))
        published = [post_id for post_id in posts_store.pending_post_ids_for_media(conn, data.media_id)
                     if posts_store.publish_post_when_media_ready(conn, post_id)]
    return PublishOutcome(published=published)


def media_failed(database: Database, event: Event) -> PublishOutcome:
    data = read_data(event, MediaFailed)
    if data.purpose != "post":
        return PublishOutcome()  # a refused avatar changes nothing: the profile keeps its current one
    with database.transaction() as conn:
        if not first_time(conn, CONSUMER, event.id):
            return PublishOutcome(duplicate=True)
        return PublishOutcome(failed=posts_store.fail_posts_waiting_for_media(conn, data.media_id, data.reason))
