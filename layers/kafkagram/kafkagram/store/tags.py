"""Posts by hashtag (the web app's /t/<tag> page): a tag's published posts, newest first."""

from __future__ import annotations

import pg8000.native

from kafkagram.events.catalog import HASHTAG_MAX_LENGTH
from kafkagram.store.errors import Invalid
from kafkagram.store.models import POST_SELECT, Post, post_from_row
from kafkagram.store.pagination import MAX_ID, Page, decode_cursor, page_size
from kafkagram.store.posts import parse_text

# `hashtags @> ARRAY[tag]` with the literal `status = 'published'` is what the partial GIN index
# posts_hashtags (migration 0003) answers; the keyset on the id pages newest first. Rows: (liked by
# the viewer, *POST_SELECT's columns).
_TAG_PAGE = f"""
SELECT EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.user_id = :viewer),
{POST_SELECT.removeprefix("SELECT ")}
WHERE p.hashtags @> ARRAY[CAST(:tag AS text)] AND p.status = 'published' AND p.id < :before
ORDER BY p.id DESC LIMIT :n
"""


def normalize_hashtag(text: str) -> str:
    """The hashtag as posts store it (lowercase, without '#'). Valid only if the caption parser reads
    exactly this tag from `#text`, so a tag that links nowhere is refused rather than listed empty."""
    tag = text.lower()
    if parse_text(f"#{text}").hashtags != [tag]:
        raise Invalid("invalid-tag", f"a hashtag is 1 to {HASHTAG_MAX_LENGTH} letters, digits or underscores, "
                                     "without the #")
    return tag


def tag_page(conn: pg8000.native.Connection, tag: str, viewer_id: int, cursor: str | None = None,
             limit: int | None = None) -> tuple[Page[Post], set[int]]:
    """A hashtag's published posts, newest first (the cursor is a post id), and the ids among them the
    viewer likes: one query per page."""
    n = page_size(limit)
    before = decode_cursor(cursor)
    rows = conn.run(_TAG_PAGE, tag=normalize_hashtag(tag), viewer=viewer_id, n=n + 1,
                    before=MAX_ID if before is None else before)
    kept = rows[:n]
    posts = [post_from_row(row[1:]) for row in kept]
    next_cursor = str(posts[-1].id) if len(rows) > n and posts else None
    return Page(posts, next_cursor), {post.id for post, row in zip(posts, kept, strict=True) if row[0]}
