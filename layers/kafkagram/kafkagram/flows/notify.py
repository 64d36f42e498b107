"""Notifications: likes, comments, follows and mentions become grouped notifications ("ada and 3
others liked your post") for the people concerned, each change published as notification-created.

Nobody is notified of their own acts, nor twice for one actor in one group (upsert_notification), nor
twice for one event: the marker (`processed_events`), the groups and the outbox rows commit together.
A comment deleted before its comment-added is handled notifies nobody; one deleted after has its text
redacted from the notifications by the deletion itself (`store.notifications.redact_comment`).

Mentions are capped per recipient: at most MENTIONS_PER_AUTHOR_PER_WINDOW mention notifications from one
author in MENTION_WINDOW (the rest are dropped, not queued), so one account cannot flood someone by
mentioning them in post after post. The count comes from the notifications themselves, under a
transaction-scoped advisory lock per (recipient, author), so concurrent events (other partitions) cannot
both slip under the cap, and a redelivered event changes nothing (its marker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pg8000.native

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
from kafkagram.store.interactions import comment_is_live
from kafkagram.store.notifications import upsert_notification

CONSUMER = "notify"  # its name in processed_events
NOTIFYING_TYPES = (LIKE_GIVEN, COMMENT_ADDED, USER_FOLLOWED, POST_CREATED)
MENTIONS_PER_AUTHOR_PER_WINDOW = 5
MENTION_WINDOW = timedelta(hours=1)


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
        if event.type == COMMENT_ADDED and not comment_is_live(conn, intents[0].comment_id or 0):
            return []  # deleted before we got here: nobody is told of it, and its text is quoted nowhere
        _lock_mention_caps(conn, intents)
        for intent in intents:
            if intent.kind == "mention" and not _mention_allowed(conn, intent.recipient_id, intent.actor_id):
                continue
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
    raise UnexpectedEvent(f"notify does not handle {event.type}", event.id)


# Mention notifications this author gave this recipient in the window (one actor per mention group).
_RECENT_MENTIONS = """
SELECT count(*) FROM notifications n JOIN notification_actors a ON a.notification_id = n.id
WHERE n.recipient_id = :recipient AND n.kind = 'mention' AND n.created_at > now() - CAST(:window AS interval)
  AND a.actor_id = :actor
"""


def _lock_mention_caps(conn: pg8000.native.Connection, intents: list[_Intent]) -> None:
    """Take the cap's lock of every (recipient, author) pair of the event's mentions, in one order for
    all transactions (sorted), so two events mentioning the same people cannot deadlock."""
    keys = sorted({f"mention-cap:{i.recipient_id}:{i.actor_id}" for i in intents if i.kind == "mention"})
    if keys:
        conn.run("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(CAST(:keys AS text[])) "
                 "WITH ORDINALITY AS t(k, n) ORDER BY n", keys=keys)


def _mention_allowed(conn: pg8000.native.Connection, recipient_id: int, actor_id: int) -> bool:
    """Whether one more mention notification from `actor_id` fits the recipient's cap (see the module);
    the caller holds the pair's lock (`_lock_mention_caps`)."""
    [[recent]] = conn.run(_RECENT_MENTIONS, recipient=recipient_id, actor=actor_id,
                          window=f"{int(MENTION_WINDOW.total_seconds())} seconds")
    return int(recent) < MENTIONS_PER_AUTHOR_PER_WINDOW


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)
