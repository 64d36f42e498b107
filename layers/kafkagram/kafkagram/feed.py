"""Home timeline reads: one Redis range read, merged with followed large accounts, hydrated from the
post cache (one MGET) with PostgreSQL asked only for the misses (one query).

The timeline itself (ids in Redis) belongs to `FeedManager`; this module is the read path the API
runs per page. A missing timeline (never built, expired, evicted, or dropped by `mark_active` for a
returning user) is rebuilt from PostgreSQL before the page is read, so a reader never gets an empty
page by mistake: "missing" and "empty" are different answers of `FeedManager.read`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pg8000.native

from kafkagram.post_cache import PostCache
from kafkagram.store import follows as follows_store
from kafkagram.store import posts as posts_store
from kafkagram.store.models import Post
from kafkagram.store.pagination import Page, decode_cursor, encode_cursor, page_size
from kafkagram.timeline import LARGE_ACCOUNT_FOLLOWERS, MAX_ITEMS, FeedManager, TimelinePage


def home_timeline(conn: pg8000.native.Connection, feeds: FeedManager, cache: PostCache, user_id: int,
                  cursor: str | None = None, limit: int | None = None) -> Page[Post]:
    """A page of `user_id`'s home timeline, newest first; the cursor is the last post id of the page."""
    n = page_size(limit)
    max_id = decode_cursor(cursor)
    feeds.mark_active(user_id)  # keeps the timeline alive; drops it for a returning user (rebuilt below)
    page = feeds.read(user_id, max_id, n)
    if page is None:
        rebuild(conn, feeds, user_id)
        page = feeds.read(user_id, max_id, n)
        if page is None:  # evicted between the rebuild and the read (memory pressure): serve from PostgreSQL
            page = _page_from_postgres(conn, user_id, max_id, n)
    large = large_followee_ids(conn, user_id)
    if large:
        # Their posts were never fanned out: merge the newest below the same cursor (one indexed query).
        page = FeedManager.merge_large_accounts(page, posts_store.recent_post_refs(conn, large, n, max_id), n)
    posts = cache.get_many(conn, page.ids)  # deleted posts drop out
    next_cursor = None if page.next_cursor is None else encode_cursor(page.next_cursor)
    return Page(posts, next_cursor)


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


def rebuild(conn: pg8000.native.Connection, feeds: FeedManager, user_id: int) -> None:
    """Rebuild the timeline from the user's and the followees' newest published posts (as fan-out
    would have written it)."""
    feeds.rebuild(user_id, _followee_posts(conn, user_id, None, MAX_ITEMS))


def large_followee_ids(conn: pg8000.native.Connection, user_id: int) -> list[int]:
    """Followees above the fan-out threshold, whose posts are merged at read time."""
    rows = conn.run("SELECT u.id FROM follows f JOIN users u ON u.id = f.followee_id "
                    "WHERE f.follower_id = :user AND u.followers_count > :threshold",
                    user=user_id, threshold=LARGE_ACCOUNT_FOLLOWERS)
    return [int(row[0]) for row in rows]


def _followee_posts(conn: pg8000.native.Connection, user_id: int, before: int | None,
                    limit: int) -> list[tuple[int, int]]:
    # The user's own posts too: fan-out writes them to the author's timeline.
    return posts_store.recent_post_refs(conn, [user_id, *follows_store.followee_ids(conn, user_id)], limit, before)


def _page_from_postgres(conn: pg8000.native.Connection, user_id: int, max_id: int | None,
                        limit: int) -> TimelinePage:
    refs: Sequence[tuple[int, int]] = _followee_posts(conn, user_id, max_id, limit + 1)
    kept = list(refs[:limit])
    more = len(refs) > limit
    return TimelinePage(ids=[p for p, _ in kept], author_ids=[a for _, a in kept],
                        next_cursor=kept[-1][0] if more and kept else None)
