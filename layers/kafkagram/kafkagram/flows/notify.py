"""Notifications: likes, comments, follows and mentions become grouped notifications ("ada and 3
others liked your post") for the people concerned, each change published as notification-created.

Nobody is notified of their own acts, nor twice for one actor in one group (upsert_notification), nor
twice for one event: the marker (`processed_events`), the groups and the outbox rows commit together.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkagram.db import Database
from kafkagram.events import (
    COMMENT_ADDED,
    LIKE_GIVEN,
    NOTIFICATION_CREATED,
    POST_CREATED,
    USER_FOLLOWED,
    Event,
    new_event,
)
from kafkagram.events.reading import CommentAdded, Follow, LikeGiven, PostCreated, UnexpectedEvent, read_data
from kafkagram.idempotency import first_time
from kafkagram.outbox import enqueue_many
from kafkagram.store.notifications import upsert_notification

CONSUMER = "notify"  # its name in processed_events
NOTIFYING_TYPES = (LIKE_GIVEN, COMMENT_ADDED, USER_FOLLOWED, POST_CREATED)


@dataclass(frozen=True)
class _Intent:
    recipient_id: int
    kind: str
    actor_id: int
    post_id: int | None = None
    comment_id: int | None = None
    text: str | None = None


def notify(database: Database, event: Event) -> list[Event]:
    """Adds the actor to each recipient's notification group and emits notification-created for each
    group that changed; returns those events."""
    intents = _intents(event)
    if not intents:  # a post without mentions: no transaction at all
        return []
    emitted: list[Event] = []
    with database.transaction() as conn:
        if not first_time(conn, CONSUMER, event.id):
            return []
        for intent in intents:
            group = upsert_notification(conn, intent.recipient_id, intent.kind, intent.actor_id,
                                        post_id=intent.post_id, comment_id=intent.comment_id, text=intent.text)
            if group is not None:
                emitted.append(new_event(NOTIFICATION_CREATED, {
                    "notification_id": str(group.id), "user_id": str(intent.recipient_id), "kind": intent.kind,
                    "from_user_id": str(intent.actor_id), "post_id": _str_or_none(intent.post_id),
                    "comment_id": _str_or_none(intent.comment_id), "text": group.text}, intent.actor_id))
        enqueue_many(conn, emitted)
    return emitted


def _intents(event: Event) -> list[_Intent]:
    if event.type == LIKE_GIVEN:
        like = read_data(event, LikeGiven)
        return [_Intent(like.post_author_id, "like", like.user_id, like.post_id)]
    if event.type == USER_FOLLOWED:
        follow = read_data(event, Follow)
        return [_Intent(follow.followee_id, "follow", follow.follower_id)]
    if event.type == COMMENT_ADDED:
        comment = read_data(event, CommentAdded)
        owner, actor = comment.post_author_id, comment.user_id
        # The owner is told once (the comment), not again for being mentioned in it.
        return [_Intent(owner, "comment", actor, comment.post_id, comment.comment_id, comment.text)] + [
            _Intent(user_id, "mention", actor, comment.post_id, comment.comment_id, comment.text)
            for user_id in comment.mentioned_user_ids if user_id != owner]
    if event.type == POST_CREATED:  # only its mentions notify: followers learn of it through their timelines
        post = read_data(event, PostCreated)
        return [_Intent(user_id, "mention", post.author_id, post.post_id) for user_id in post.mentioned_user_ids]
    raise UnexpectedEvent(f"notify does not handle {event.type}")


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)
