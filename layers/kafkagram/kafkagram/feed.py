"""Home timeline pages as the API serves them: the ids from the FeedManager (`read_home`: one Redis
range read, a rebuild when missing, the followed large accounts merged in), hydrated from the post
cache (one MGET) with PostgreSQL asked only for the misses (one query); and the ranked order.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pg8000.native

from kafkagram.post_cache import PostCache
from kafkagram.store.models import Post
from kafkagram.store.pagination import Page, decode_cursor, encode_cursor, page_size
from kafkagram.timeline import FeedManager


def home_timeline(conn: pg8000.native.Connection, feeds: FeedManager, cache: PostCache, user_id: int,
                  cursor: str | None = None, limit: int | None = None) -> Page[Post]:
    """A page of `user_id`'s home timeline, newest first; the cursor is the last post id of the page."""
    n = page_size(limit)
    page = feeds.read_home(conn, user_id, decode_cursor(cursor), n)
    posts = cache.get_many(conn, page.ids)  # deleted posts drop out
    return Page(posts, None if page.next_cursor is None else encode_cursor(page.next_cursor))


# The ranked feed (optional: `order=ranked`) orders the newest posts by engagement, decayed by age.
# Scores come from the posts' own counters, which the API keeps in the transaction of each like and
# comment: nothing extra to keep consistent, and the post cache serves them.
RANKED_WINDOW = 100  # the newest posts a ranked feed chooses from (one page read, one hydration)
COMMENT_WEIGHT = 2.0  # a comment says more than a like
GRAVITY = 1.5  # Hacker News's: a post sinks with age, whatever its score


def engagement_rank(post: Post, now: datetime) -> float:
    age_hours = max(0.0, (now - (post.published_at or post.created_at)).total_seconds() / 3600)
    return (1 + post.likes_count + COMMENT_WEIGHT * post.comments_count) / (age_hours + 2) ** GRAVITY


def ranked_home_timeline(conn: pg8000.native.Connection, feeds: FeedManager, cache: PostCache, user_id: int,
                         cursor: str | None = None, limit: int | None = None,
                         now: datetime | None = None) -> Page[Post]:
    """The newest RANKED_WINDOW posts of the home timeline, best first; the cursor is how many were
    shown. Each page ranks again, so a post whose score changed between pages may show twice or be
    skipped: clients keep the ids they have shown."""
    n = page_size(limit)
    shown = decode_cursor(cursor) or 0
    window = home_timeline(conn, feeds, cache, user_id, None, RANKED_WINDOW).items
    at = now or datetime.now(UTC)
    ranked = sorted(window, key=lambda post: engagement_rank(post, at), reverse=True)
    more = shown + n < len(ranked)
    return Page(ranked[shown:shown + n], encode_cursor(shown + n) if more else None)
