"""Likes and comments: idempotent likes, comments with author-or-post-owner deletion, counters kept
on the post in the same statement as the row they count."""

from __future__ import annotations

from collections.abc import Iterable

import pg8000.native

from kafkagram.db import changes
from kafkagram.events import COMMENT_ADDED, COMMENT_DELETED, LIKE_GIVEN, LIKE_REMOVED, new_event
from kafkagram.events.catalog import COMMENT_MAX_LENGTH
from kafkagram.outbox import enqueue, require_transaction
from kafkagram.store.errors import Forbidden, Invalid, NotFound
from kafkagram.store.models import COMMENT_COLUMNS, Comment, comment_from_row
from kafkagram.store.notifications import redact_comment
from kafkagram.store.pagination import Page, build_page, decode_cursor, page_size
from kafkagram.store.posts import check_mentions, parse_text
from kafkagram.store.users import resolve_usernames

# The like row and the counter change together, the counter only when a row was really inserted
# (deleted): liking twice counts once. The counter UPDATE also locks the post's row, which orders
# this post's like events (their Kafka key) by commit. The post's author rides along for the event.
_LIKE = """
WITH post AS (
    SELECT id, author_id FROM posts WHERE id = :post AND status = 'published'
), liked AS (
    INSERT INTO likes (post_id, user_id) SELECT id, :user FROM post ON CONFLICT DO NOTHING RETURNING post_id
), counted AS (
    UPDATE posts SET likes_count = likes_count + 1 WHERE id IN (SELECT post_id FROM liked) RETURNING 1
)
SELECT (SELECT author_id FROM post), (SELECT count(*) FROM liked), (SELECT count(*) FROM counted)
"""
_UNLIKE = """
WITH post AS (
    SELECT id, author_id FROM posts WHERE id = :post AND status <> 'deleted'
), unliked AS (
    DELETE FROM likes WHERE post_id IN (SELECT id FROM post) AND user_id = :user RETURNING post_id
), counted AS (
    UPDATE posts SET likes_count = likes_count - 1 WHERE id IN (SELECT post_id FROM unliked) RETURNING 1
)
SELECT (SELECT author_id FROM post), (SELECT count(*) FROM unliked), (SELECT count(*) FROM counted)
"""


def _like_data(post_id: int, author_id: int, user_id: int) -> dict[str, str]:
    return {"post_id": str(post_id), "post_author_id": str(author_id), "user_id": str(user_id)}


def like(conn: pg8000.native.Connection, user_id: int, post_id: int) -> bool:
    """Like a published post; True (and like-given) if the like is new, False if it existed."""
    require_transaction(conn, "like")
    return _change_like(conn, _LIKE, LIKE_GIVEN, user_id, post_id)


def unlike(conn: pg8000.native.Connection, user_id: int, post_id: int) -> bool:
    """Take a like back; True (and like-removed) if there was one."""
    require_transaction(conn, "unlike")
    return _change_like(conn, _UNLIKE, LIKE_REMOVED, user_id, post_id)


def _change_like(conn: pg8000.native.Connection, statement: str, event_type: str, user_id: int, post_id: int) -> bool:
    [[author_id, changed, _]] = conn.run(statement, post=post_id, user=user_id)
    if author_id is None:
        raise NotFound("post-not-found", "no such post")
    if changed:
        enqueue(conn, new_event(event_type, _like_data(post_id, author_id, user_id), user_id))
        changes(conn).posts.add(post_id)  # its like count
    return bool(changed)


def liked_post_ids(conn: pg8000.native.Connection, user_id: int, post_ids: Iterable[int]) -> set[int]:
    """Which of these posts the user liked (one query, for a page of posts)."""
    ids = list(dict.fromkeys(post_ids))
    if not ids:
        return set()
    rows = conn.run("SELECT post_id FROM likes WHERE post_id = ANY(CAST(:ids AS bigint[])) AND user_id = :user",
                    ids=ids, user=user_id)
    return {int(row[0]) for row in rows}


_ADD_COMMENT = f"""
WITH post AS (
    SELECT id, author_id FROM posts WHERE id = :post AND status = 'published'
), c AS (
    INSERT INTO comments (post_id, author_id, body) SELECT id, :user, :body FROM post RETURNING *
), counted AS (
    UPDATE posts SET comments_count = comments_count + 1 WHERE id IN (SELECT post_id FROM c) RETURNING 1
)
SELECT {COMMENT_COLUMNS}, (SELECT author_id FROM post), (SELECT count(*) FROM counted)
FROM c JOIN users u ON u.id = c.author_id
"""


def add_comment(conn: pg8000.native.Connection, user_id: int, post_id: int, body: str) -> Comment:
    """Comment on a published post; emits comment-added with the mentioned users who exist."""
    require_transaction(conn, "add_comment")
    body = body.strip()
    if not body:
        raise Invalid("empty-comment", "a comment cannot be empty")
    if len(body) > COMMENT_MAX_LENGTH:
        raise Invalid("comment-too-long", f"a comment is at most {COMMENT_MAX_LENGTH} characters")
    parsed = parse_text(body)
    check_mentions(parsed, "comment")
    rows = conn.run(_ADD_COMMENT, post=post_id, user=user_id, body=body)
    if not rows:
        raise NotFound("post-not-found", "no such post")
    comment, post_author_id = comment_from_row(rows[0]), rows[0][-2]  # the columns after the comment's
    mentioned = resolve_usernames(conn, parsed.mentions)
    enqueue(conn, new_event(COMMENT_ADDED, {
        "comment_id": str(comment.id), **_like_data(post_id, post_author_id, user_id), "text": body,
        "mentioned_user_ids": [str(mentioned_id) for mentioned_id in mentioned]}, user_id))
    changes(conn).posts.add(post_id)  # its comment count
    return comment


def delete_comment(conn: pg8000.native.Connection, comment_id: int, user_id: int, *,
                   post_id: int | None = None) -> None:
    """Delete a comment: its author may, and so may the post's author (any comment on their post).
    Kept as a row with deleted_at; emits comment-deleted with the deleter as actor. With `post_id`, a
    comment of another post is not found (a URL names the post and the comment)."""
    require_transaction(conn, "delete_comment")
    rows = conn.run("SELECT c.author_id, c.post_id, p.author_id FROM comments c JOIN posts p ON p.id = c.post_id "
                    "WHERE c.id = :id AND c.deleted_at IS NULL FOR UPDATE OF c", id=comment_id)
    if not rows or post_id not in (None, rows[0][1]):
        raise NotFound("comment-not-found", "no such comment")
    comment_author_id, post_id, post_author_id = rows[0]
    if user_id not in (comment_author_id, post_author_id):
        raise Forbidden("not-your-comment", "only its author or the post's author can delete a comment")
    conn.run("WITH c AS (UPDATE comments SET deleted_at = now(), deleted_by = :user WHERE id = :id RETURNING post_id) "
             "UPDATE posts SET comments_count = comments_count - 1 WHERE id IN (SELECT post_id FROM c)",
             id=comment_id, user=user_id)
    enqueue(conn, new_event(COMMENT_DELETED, {
        "comment_id": str(comment_id), **_like_data(post_id, post_author_id, comment_author_id)}, user_id))
    # In this transaction, not later from comment-deleted: the text is gone from notifications the moment
    # the comment is (notify, holding the comment's row lock, never adds it back: `comment_is_live`).
    redact_comment(conn, comment_id)
    changes(conn).posts.add(post_id)


def comment_is_live(conn: pg8000.native.Connection, comment_id: int) -> bool:
    """Whether the comment exists and is not deleted; holds a share lock on it until the transaction ends,
    so a deletion waits (and redacts after) instead of racing a notification that quotes it."""
    require_transaction(conn, "comment_is_live")
    rows = conn.run("SELECT deleted_at IS NULL FROM comments WHERE id = :id FOR SHARE", id=comment_id)
    return bool(rows and rows[0][0])


def comments_page(conn: pg8000.native.Connection, post_id: int, cursor: str | None = None,
                  limit: int | None = None) -> Page[Comment]:
    """A published post's comments, oldest first (conversation order); the cursor is a comment id.
    A missing or deleted post gives an empty page (still one query)."""
    n = page_size(limit)
    after = decode_cursor(cursor) or 0
    rows = conn.run(f"SELECT {COMMENT_COLUMNS} FROM comments c JOIN users u ON u.id = c.author_id "
                    f"JOIN posts p ON p.id = c.post_id AND p.status = 'published' "
                    f"WHERE c.post_id = :post AND c.deleted_at IS NULL AND c.id > :after "
                    f"ORDER BY c.id LIMIT :n", post=post_id, after=after, n=n + 1)
    return build_page(rows, n, comment_from_row, lambda row: int(row[0]))
