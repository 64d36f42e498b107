"""Post publication (media-processed): posts waiting for that media are published (post-created)
once all their media are ready; a processed avatar becomes its owner's avatar (profile-updated).
A refused media (media-failed) fails the posts waiting for it, with its reason, so they do not stay
pending forever.

Idempotent: the marker (`processed_events`) and the changes commit in one transaction, and
publication itself only moves a pending post, so post-created is emitted once per post.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.events import Event
from kafkagram.handlers_common import EventData, event_data, handle_batch, transaction
from kafkagram.idempotency import first_time
from kafkagram.store.posts import (
    fail_posts_waiting_for_media,
    pending_post_ids_for_media,
    publish_post_when_media_ready,
)
from kafkagram.store.users import update_profile

logger = Logger()
CONSUMER = "publish-post"


class MediaProcessed(EventData):
    media_id: int
    owner_id: int
    purpose: Literal["post", "avatar"]


def on_media_processed(event: Event) -> None:
    data = event_data(event, MediaProcessed)
    with transaction() as conn:
        if not first_time(conn, CONSUMER, event.id):
            logger.info("already applied", extra={"media_id": data.media_id})
            return
        if data.purpose == "avatar":
            # Locks the user: two avatars processed at once are applied one after the other. Ids are
            # time-ordered, so an older upload finishing late does not replace a newer avatar.
            rows = conn.run("SELECT avatar_media_id FROM users WHERE id = :id FOR UPDATE", id=data.owner_id)
            current = rows[0][0] if rows else None
            if rows and (current is None or current < data.media_id):
                update_profile(conn, data.owner_id, avatar_media_id=data.media_id)
                logger.info("avatar updated", extra={"user_id": data.owner_id, "media_id": data.media_id})
            return
        published = [post_id for post_id in pending_post_ids_for_media(conn, data.media_id)
                     if publish_post_when_media_ready(conn, post_id)]
    logger.info("posts published", extra={"media_id": data.media_id, "post_ids": published})


class MediaFailed(EventData):
    media_id: int
    purpose: Literal["post", "avatar"]
    reason: str


def on_media_failed(event: Event) -> None:
    data = event_data(event, MediaFailed)
    if data.purpose != "post":
        return  # a refused avatar changes nothing: the profile keeps its current one
    with transaction() as conn:
        if not first_time(conn, CONSUMER, event.id):
            return
        failed = fail_posts_waiting_for_media(conn, data.media_id, data.reason)
    logger.info("posts failed", extra={"media_id": data.media_id, "post_ids": failed, "reason": data.reason})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(handle_batch(event, context, {"media-processed": on_media_processed,
                                                 "media-failed": on_media_failed}, logger))
