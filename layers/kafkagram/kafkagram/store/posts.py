"""Posts: caption parsing, creation with the author's media, publication once the media are ready,
deletion, and the reads (one post, a batch for timeline hydration, a user's grid)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pg8000.native

from kafkagram.db import changes
from kafkagram.events import POST_CREATED, POST_DELETED, new_event
from kafkagram.events.catalog import (
    CAPTION_MAX_LENGTH,
    HASHTAG_MAX_LENGTH,
    MENTIONS_MAX,
    POST_MAX_MEDIA,
    USERNAME_PATTERN,
)
from kafkagram.outbox import enqueue, require_transaction
from kafkagram.store.errors import Conflict, Forbidden, Invalid, NotFound
from kafkagram.store.models import POST_SELECT, Post, post_from_row
from kafkagram.store.pagination import MAX_ID

POST_MIN_MEDIA = 1
# A mention is '@' not preceded by a word character, '.' or '@' (so emails are not mentions); the
# candidate is then checked against the username rule. Trailing dots end the sentence, not the name.
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9._]+)")
_USERNAME = re.compile(USERNAME_PATTERN)
# A hashtag is '#' not preceded by a word character, then word characters (Unicode letters and digits).
_HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")


@dataclass(frozen=True, slots=True)
class ParsedText:
    mentions: list[str]  # lowercase usernames, first occurrence order, unique
    hashtags: list[str]  # lowercase, without '#', first occurrence order, unique


def parse_text(text: str) -> ParsedText:
    """@mentions and #hashtags of a caption or comment (`Hi @Ada.` -> ["ada"]; `#Math #math` -> ["math"])."""
    mentions = (match.rstrip(".").lower() for match in _MENTION.findall(text))
    hashtags = (match.lower() for match in _HASHTAG.findall(text))
    return ParsedText(
        mentions=list(dict.fromkeys(name for name in mentions if _USERNAME.match(name))),
        hashtags=list(dict.fromkeys(tag for tag in hashtags if len(tag) <= HASHTAG_MAX_LENGTH)),
    )


def check_mentions(parsed: ParsedText, field: str) -> None:
    """At most MENTIONS_MAX distinct @mentions in one caption or comment (the API checks first, with a
    400 naming the field; this is the authority for every other caller)."""
    if len(parsed.mentions) > MENTIONS_MAX:
        raise Invalid("too-many-mentions", f"a {field} mentions at most {MENTIONS_MAX} people")


def _check_caption(caption: str) -> None:
    if len(caption) > CAPTION_MAX_LENGTH:
        raise Invalid("caption-too-long", f"a caption is at most {CAPTION_MAX_LENGTH} characters")


def _check_media_ids(media_ids: Sequence[int]) -> None:
    if not POST_MIN_MEDIA <= len(media_ids) <= POST_MAX_MEDIA:
        raise Invalid("invalid-media-count", f"a post has {POST_MIN_MEDIA} to {POST_MAX_MEDIA} media")
    if len(set(media_ids)) != len(media_ids):
        raise Invalid("duplicate-media", "a media appears twice in the post")


def _check_media_usable(conn: pg8000.native.Connection, author_id: int, media_ids: Sequence[int]) -> None:
    # Locks the media rows: two posts racing for one media are serialized here.
    rows = conn.run("SELECT m.id, m.owner_id, m.purpose, m.status, pm.post_id IS NOT NULL FROM media m "
                    "LEFT JOIN post_media pm ON pm.media_id = m.id "
                    "WHERE m.id = ANY(CAST(:ids AS bigint[])) FOR UPDATE OF m", ids=list(media_ids))
    if len(rows) != len(media_ids):
        raise NotFound("media-not-found", "a media of the post does not exist")
    for _, owner_id, purpose, status, attached in rows:
        if owner_id != author_id:
            raise Forbidden("not-your-media", "a post can only use your own uploads")
        if purpose != "post" or status == "failed":
            raise Invalid("media-not-usable", "a media of the post is not a usable post upload")
        if attached:
            raise Conflict("media-already-used", "a media of the post belongs to another post")


_INSERT_POST = """
WITH p AS (
    INSERT INTO posts (author_id, caption, mentions, hashtags)
    VALUES (:author, :caption, CAST(:mentions AS text[]), CAST(:hashtags AS text[])) RETURNING id
), attached AS (
    INSERT INTO post_media (post_id, media_id, position)
    SELECT p.id, m.id, m.ord - 1 FROM p, unnest(CAST(:media AS bigint[])) WITH ORDINALITY AS m(id, ord)
)
SELECT id FROM p
"""


def create_post(conn: pg8000.native.Connection, author_id: int, caption: str, media_ids: Sequence[int]) -> Post:
    """A post with 1-10 of the author's media, in order. It is published at once (post-created) if
    every media is ready; otherwise it waits as pending for `publish_post_when_media_ready`."""
    require_transaction(conn, "create_post")
    _check_caption(caption)
    parsed = parse_text(caption)
    check_mentions(parsed, "caption")
    _check_media_ids(media_ids)
    _check_media_usable(conn, author_id, media_ids)
    [[post_id]] = conn.run(_INSERT_POST, author=author_id, caption=caption, mentions=parsed.mentions,
                           hashtags=parsed.hashtags, media=list(media_ids))
    publish_post_when_media_ready(conn, post_id)
    return get_post(conn, post_id, viewer_id=author_id)


# Publishes only a pending post whose media are all ready: the WHERE makes a second call (or a
# concurrent one, which waits for the row lock and re-checks) change nothing, so post-created is
# emitted once. The author's posts_count counts published posts.
_PUBLISH = """
WITH pub AS (
    UPDATE posts p SET status = 'published', published_at = now()
    WHERE p.id = :id AND p.status = 'pending' AND NOT EXISTS (
        SELECT 1 FROM post_media pm JOIN media m ON m.id = pm.media_id
        WHERE pm.post_id = p.id AND m.status <> 'ready')
    RETURNING p.id, p.author_id, p.caption, p.hashtags, p.mentions
), counted AS (
    UPDATE users SET posts_count = posts_count + 1 WHERE id IN (SELECT author_id FROM pub) RETURNING 1
)
SELECT pub.id, pub.author_id, pub.caption, pub.hashtags,
       (SELECT array_agg(media_id ORDER BY position) FROM post_media WHERE post_id = pub.id),
       (SELECT coalesce(array_agg(u.id), '{}') FROM users u WHERE lower(u.username) = ANY(pub.mentions)),
       (SELECT count(*) FROM counted)
FROM pub
"""


def publish_post_when_media_ready(conn: pg8000.native.Connection, post_id: int) -> bool:
    """Publish a pending post whose media are all ready; True (and post-created) only the first time."""
    require_transaction(conn, "publish_post_when_media_ready")
    rows = conn.run(_PUBLISH, id=post_id)
    if not rows:
        return False
    post_id, author_id, caption, hashtags, media_ids, mentioned, _ = rows[0]
    enqueue(conn, new_event(POST_CREATED, {
        "post_id": str(post_id), "author_id": str(author_id), "caption": caption,
        "media_ids": [str(media_id) for media_id in media_ids], "hashtags": hashtags,
        "mentioned_user_ids": [str(user_id) for user_id in mentioned]}, author_id))
    return True


def fail_posts_waiting_for_media(conn: pg8000.native.Connection, media_id: int, reason: str) -> list[int]:
    """Pending posts holding a media that processing refused become failed with its reason (they could
    never publish); returns their ids. A second call finds none: they are no longer pending."""
    require_transaction(conn, "fail_posts_waiting_for_media")
    rows = conn.run("UPDATE posts p SET status = 'failed', failure_reason = :reason FROM post_media pm "
                    "WHERE pm.post_id = p.id AND pm.media_id = :media AND p.status = 'pending' RETURNING p.id",
                    media=media_id, reason=reason)
    return [int(row[0]) for row in rows]


def pending_post_ids_for_media(conn: pg8000.native.Connection, media_id: int) -> list[int]:
    """Posts waiting for this media (call `publish_post_when_media_ready` on each after media-processed)."""
    rows = conn.run("SELECT pm.post_id FROM post_media pm JOIN posts p ON p.id = pm.post_id "
                    "WHERE pm.media_id = :media AND p.status = 'pending'", media=media_id)
    return [int(row[0]) for row in rows]


def delete_post(conn: pg8000.native.Connection, post_id: int, user_id: int) -> None:
    """The author deletes their post (kept as status 'deleted'); emits post-deleted."""
    require_transaction(conn, "delete_post")
    rows = conn.run("SELECT author_id, status FROM posts WHERE id = :id FOR UPDATE", id=post_id)
    if not rows or rows[0][1] == "deleted":
        raise NotFound("post-not-found", "no such post")
    author_id, status = rows[0]
    if author_id != user_id:
        raise Forbidden("not-your-post", "only the author can delete a post")
    conn.run("UPDATE posts SET status = 'deleted', deleted_at = now() WHERE id = :id", id=post_id)
    if status == "published":
        conn.run("UPDATE users SET posts_count = posts_count - 1 WHERE id = :id", id=author_id)
    enqueue(conn, new_event(POST_DELETED, {"post_id": str(post_id), "author_id": str(author_id)}, user_id))
    changes(conn).posts.add(post_id)


def get_post(conn: pg8000.native.Connection, post_id: int, viewer_id: int | None = None) -> Post:
    """A published post; its author also sees it while pending or failed. Deleted posts are not found."""
    rows = conn.run(f"{POST_SELECT} WHERE p.id = :id AND (p.status = 'published' "
                    f"OR (p.status IN ('pending', 'failed') AND p.author_id = :viewer))", id=post_id,
                    viewer=viewer_id or 0)
    if not rows:
        raise NotFound("post-not-found", "no such post")
    return post_from_row(rows[0])


def get_posts_by_ids(conn: pg8000.native.Connection, post_ids: Iterable[int]) -> list[Post]:
    """Published posts with author and media, in the order asked, in ONE query (timeline hydration);
    ids of missing or deleted posts are skipped."""
    ids = list(dict.fromkeys(post_ids))
    if not ids:
        return []
    rows = conn.run(f"{POST_SELECT} WHERE p.id = ANY(CAST(:ids AS bigint[])) AND p.status = 'published'", ids=ids)
    by_id = {post.id: post for post in map(post_from_row, rows)}
    return [by_id[post_id] for post_id in ids if post_id in by_id]


def recent_post_refs(conn: pg8000.native.Connection, author_ids: Iterable[int], limit: int,
                     before: int | None = None) -> list[tuple[int, int]]:
    """(post_id, author_id) of the newest published posts of these authors, newest first, below
    `before`: timeline rebuilds, follow backfills and the read-time merge of large accounts.
    At most `limit` per author are read from the index, then the newest `limit` overall."""
    authors = list(dict.fromkeys(author_ids))
    if not authors or limit < 1:
        return []
    rows = conn.run("SELECT p.id, p.author_id FROM unnest(CAST(:authors AS bigint[])) AS a(id) "
                    "CROSS JOIN LATERAL (SELECT id, author_id FROM posts WHERE author_id = a.id "
                    "AND status = 'published' AND id < :before ORDER BY id DESC LIMIT :n) p "
                    "ORDER BY p.id DESC LIMIT :n", authors=authors, n=limit,
                    before=MAX_ID if before is None else before)
    return [(int(row[0]), int(row[1])) for row in rows]


@dataclass(frozen=True, slots=True)
class PostStats:
    post_id: int
    likes_count: int
    comments_count: int


def post_stats(conn: pg8000.native.Connection, post_ids: Iterable[int],
               viewer_id: int | None = None) -> list[PostStats]:
    """The like and comment counts of these posts, in ONE query (live post stats): published posts, and
    with `viewer_id` that viewer's own pending or failed ones too (what `get_post` shows them). Missing,
    deleted and invisible posts are left out."""
    ids = list(dict.fromkeys(post_ids))
    if not ids:
        return []
    rows = conn.run("SELECT id, likes_count, comments_count FROM posts WHERE id = ANY(CAST(:ids AS bigint[])) "
                    "AND (status = 'published' OR (status IN ('pending', 'failed') AND author_id = :viewer))",
                    ids=ids, viewer=viewer_id or 0)
    by_id = {int(row[0]): PostStats(int(row[0]), int(row[1]), int(row[2])) for row in rows}
    return [by_id[post_id] for post_id in ids if post_id in by_id]
