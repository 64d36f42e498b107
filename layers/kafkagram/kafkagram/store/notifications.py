"""Notifications, grouped: "ada and 3 others liked your post" is one row per (recipient, group) while
unread. A group counts distinct actors (notification_actors), so like, unlike, like again counts once.

Storing is the notification handler's job (it consumes notification-created), so nothing here emits
events; `upsert_notification` tells the caller whether anything changed (worth a push).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pg8000.native

from kafkagram.events.catalog import COMMENT_MAX_LENGTH, NOTIFICATION_CREATED, NOTIFICATION_EVENTS
from kafkagram.outbox import require_transaction
from kafkagram.store.errors import Invalid, NotFound
from kafkagram.store.models import SUMMARY_JSON, Notification, summary_from_json
from kafkagram.store.pagination import MAX_ID, Page, build_page, decode_cursor, page_size

KINDS = ("like", "comment", "follow", "mention")
LATEST_ACTORS = 3  # the actors a group shows by name, newest first
_VERBS = {"like": "liked your post", "comment": "commented on your post", "follow": "started following you",
          "mention": "mentioned you"}


def group_key(kind: str, post_id: int | None, comment_id: int | None) -> str:
    """Likes and comments group per post, follows all together; mentions never group (one per place)."""
    if kind in ("like", "comment"):
        return f"{kind}:{post_id}"
    if kind == "follow":
        return "follow"
    return f"mention:{post_id}:{comment_id}"


_OPEN_GROUP = """
INSERT INTO notifications (recipient_id, kind, group_key, post_id, comment_id, text)
VALUES (:recipient, :kind, :group_key, :post, :comment, :text)
ON CONFLICT (recipient_id, group_key) WHERE read_at IS NULL DO UPDATE SET kind = EXCLUDED.kind
RETURNING id
"""
# Only a new actor changes the group: the newest shown first (trim_array, as pg8000 reads an array
# slice's ":n" as a parameter), and a fresh activity_id that moves the group to the top of the list.
_ADD_ACTOR = f"""
WITH joined AS (
    INSERT INTO notification_actors (notification_id, actor_id) VALUES (:id, :actor)
    ON CONFLICT DO NOTHING RETURNING notification_id
)
UPDATE notifications SET actor_count = actor_count + 1,
       latest_actor_ids = trim_array(CAST(:actor AS bigint) || latest_actor_ids,
                                     greatest(cardinality(latest_actor_ids) + 1 - {LATEST_ACTORS}, 0)),
       comment_id = coalesce(:comment, comment_id), text = coalesce(:text, text),
       activity_id = next_id(), updated_at = now()
WHERE id IN (SELECT notification_id FROM joined)
RETURNING id
"""

# A page of groups with their newest actors as JSON, in one query.
_NOTIFICATION_SELECT = f"""
SELECT n.id, n.recipient_id, n.kind, n.post_id, n.comment_id, n.text,
       (SELECT coalesce(json_agg({SUMMARY_JSON} ORDER BY a.ord), '[]')
        FROM unnest(n.latest_actor_ids) WITH ORDINALITY AS a(id, ord) JOIN users u ON u.id = a.id),
       n.actor_count, n.activity_id, n.created_at, n.updated_at, n.read_at
FROM notifications n
"""


def _notification_from_row(row: Sequence[Any]) -> Notification:
    actors = [summary_from_json(actor) for actor in row[6]]
    return Notification(id=row[0], recipient_id=row[1], kind=row[2], post_id=row[3], comment_id=row[4],
                        text=row[5], actors=actors, actor_count=row[7], activity_id=row[8], created_at=row[9],
                        updated_at=row[10], read_at=row[11])


def upsert_notification(conn: pg8000.native.Connection, recipient_id: int, kind: str, actor_id: int,
                        post_id: int | None = None, comment_id: int | None = None,
                        text: str | None = None) -> Notification | None:
    """Add `actor_id` to the recipient's unread group for this kind and post (creating it).

    None when nothing changed: acting on one's own things notifies nobody, and an actor already in
    the group is not counted again."""
    require_transaction(conn, "upsert_notification")
    if kind not in KINDS:
        raise Invalid("invalid-kind", f"kind must be one of {', '.join(KINDS)}")
    if actor_id == recipient_id:
        return None
    excerpt = None if text is None else text[:COMMENT_MAX_LENGTH]
    [[group_id]] = conn.run(_OPEN_GROUP, recipient=recipient_id, kind=kind, post=post_id, comment=comment_id,
                            text=excerpt, group_key=group_key(kind, post_id, comment_id))
    if not conn.run(_ADD_ACTOR, id=group_id, actor=actor_id, comment=comment_id, text=excerpt):
        # A group this call just opened has no actor yet, so only a known actor lands here: the
        # group itself is unchanged (the ON CONFLICT no-op update changed nothing visible).
        return None
    return get_notification(conn, group_id)


def redact_comment(conn: pg8000.native.Connection, comment_id: int) -> int:
    """A deleted comment's text leaves every notification that shows it (comment and mention groups, read
    or not), and the notification-created events carrying it that still wait in the outbox (published ones
    are history; Kafka's retention removes them). Call in the deletion's transaction; returns how many
    notifications lost the text."""
    require_transaction(conn, "redact_comment")
    conn.run("UPDATE notifications SET text = NULL, updated_at = now() WHERE comment_id = :id AND text IS NOT NULL",
             id=comment_id)
    redacted = int(conn.row_count)
    conn.run("UPDATE outbox SET payload = jsonb_set(payload, '{data,text}', 'null') "
             "WHERE published_at IS NULL AND topic = :topic AND payload->>'type' = :type "
             "AND payload->'data'->>'comment_id' = :id AND payload->'data'->>'text' IS NOT NULL",
             topic=NOTIFICATION_EVENTS, type=NOTIFICATION_CREATED, id=str(comment_id))
    return redacted


def get_notification(conn: pg8000.native.Connection, notification_id: int) -> Notification:
    rows = conn.run(f"{_NOTIFICATION_SELECT} WHERE n.id = :id", id=notification_id)
    if not rows:
        raise NotFound("notification-not-found", "no such notification")
    return _notification_from_row(rows[0])


def notifications_page(conn: pg8000.native.Connection, recipient_id: int, cursor: str | None = None,
                       limit: int | None = None) -> Page[Notification]:
    """Newest activity first; the cursor is the group's activity_id (a group that gains an actor
    while someone pages moves to the top, so it may show up again on a later refresh, not twice in
    one walk down)."""
    n = page_size(limit)
    before = decode_cursor(cursor)
    rows = conn.run(f"{_NOTIFICATION_SELECT} WHERE n.recipient_id = :recipient AND n.activity_id < :before "
                    f"AND n.actor_count > 0 ORDER BY n.activity_id DESC LIMIT :n",
                    recipient=recipient_id, before=MAX_ID if before is None else before, n=n + 1)
    return build_page(rows, n, _notification_from_row, lambda row: int(row[8]))


def unread_count(conn: pg8000.native.Connection, recipient_id: int) -> int:
    rows = conn.run("SELECT count(*) FROM notifications WHERE recipient_id = :recipient AND read_at IS NULL "
                    "AND actor_count > 0", recipient=recipient_id)
    return int(rows[0][0])


def mark_read(conn: pg8000.native.Connection, recipient_id: int,
              notification_ids: Sequence[int] | None = None) -> int:
    """Mark some (or, with None, all) of the recipient's notifications read; returns how many changed.
    A read group is closed: the next like starts a new one."""
    if notification_ids is None:
        conn.run("UPDATE notifications SET read_at = now() WHERE recipient_id = :recipient AND read_at IS NULL",
                 recipient=recipient_id)
    else:
        conn.run("UPDATE notifications SET read_at = now() WHERE recipient_id = :recipient AND read_at IS NULL "
                 "AND id = ANY(CAST(:ids AS bigint[]))", recipient=recipient_id, ids=list(notification_ids))
    return int(conn.row_count)


def describe(notification: Notification) -> str:
    """The line people read: "ada liked your post", "ada and bob ...", "ada and 3 others ..."."""
    names = [actor.username for actor in notification.actors]
    verb = _VERBS[notification.kind]
    if not names:
        return f"someone {verb}"
    others = notification.actor_count - 1
    if others == 0:
        return f"{names[0]} {verb}"
    if others == 1 and len(names) > 1:
        return f"{names[0]} and {names[1]} {verb}"
    return f"{names[0]} and {others} {'other' if others == 1 else 'others'} {verb}"
