"""Home timeline pages as the API serves them, and the ranked order.

A page costs, on a warm cache, ONE Redis round trip and ONE PostgreSQL statement (`HomeTimeline.page`):

- Redis: one script composed of its owners' Lua functions, each key format staying with its owner:
  the request's rate-limit token (auth.ratelimit's take_token, when the API hands the page its `Take`),
  the reader's activity and the range read (the FeedManager's mark_active and timeline_range), and the
  cached posts of the page (the PostCache's cached_posts). A refused token stops the script before
  anything else happens (RateLimited). A missing timeline (never built, expired, evicted, or dropped for
  a returning user) is then rebuilt from PostgreSQL and read again (`FeedManager.rebuilt_page`).
- PostgreSQL: the followed large accounts' newest posts below the cursor (merged in, as the FeedManager
  merges them) and the reader's likes among the page's posts, in one prepared statement
  (kafkagram.store.pages). Posts the cache missed are loaded in one more query, and cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pg8000.native

from kafkagram.auth.ratelimit import TAKE_TOKEN_LUA, RateLimited, Take
from kafkagram.post_cache import CACHED_POSTS_LUA, PostCache
from kafkagram.store import pages
from kafkagram.store.models import Post
from kafkagram.store.pagination import Page, decode_cursor, encode_cursor, page_size
from kafkagram.timeline import HOME_READ_LUA, LARGE_ACCOUNT_FOLLOWERS, FeedManager, TimelinePage

# KEYS: the token's bucket ("" for none), then FeedManager.home_read_keys (activity set, timeline).
# ARGV: take_token's burst and rate, FeedManager.home_read_args (user, now, ACTIVE_SECONDS, upper bound,
# count = limit + 1), PostCache.key_prefix.
# Returns {token reply or false} when the token is refused, {token, returning} when the timeline is
# missing, else {token, returning, members, cached posts of the page's first `limit` ids}.
HOME_PAGE_SCRIPT = TAKE_TOKEN_LUA + HOME_READ_LUA + CACHED_POSTS_LUA + """
local token = false
if KEYS[1] ~= '' then
  token = take_token(KEYS[1], ARGV[1], ARGV[2])
  if token[1] == 0 then return {token} end
end
local returning = mark_active(KEYS[2], KEYS[3], ARGV[3], ARGV[4], ARGV[5])
local count = tonumber(ARGV[7])
local rows = timeline_range(KEYS[3], ARGV[6], count)
if #rows == 0 then return {token, returning} end
return {token, returning, rows, cached_posts(ARGV[8], timeline_post_ids(rows, count - 1))}
"""


@dataclass(frozen=True)
class HomePage:
    page: Page[Post]
    liked: set[int] = field(default_factory=set)  # the ids among the page's posts that the reader likes


class HomeTimeline:
    """The API's home-timeline reads (one per sandbox; `feeds` and `cache` share one Redis client)."""

    def __init__(self, feeds: FeedManager, cache: PostCache) -> None:
        self._feeds = feeds
        self._cache = cache
        self._script = feeds.client.register_script(HOME_PAGE_SCRIPT)

    def page(self, conn: pg8000.native.Connection, user_id: int, cursor: str | None = None,
             limit: int | None = None, take: Take | None = None) -> HomePage:
        """A page of `user_id`'s home timeline, newest first (the cursor is the last post id of the
        page), and which of its posts they like. `take`: the request's rate-limit token, taken in the
        same round trip (RateLimited when refused; a take already decided is not taken again)."""
        n = page_size(limit)
        max_id = decode_cursor(cursor)
        timeline, cached = self._read(conn, user_id, max_id, n, take)
        extras = pages.home_page_extras(conn, user_id, timeline.ids, max_id, n, LARGE_ACCOUNT_FOLLOWERS)
        if extras.large_posts:
            timeline = FeedManager.merge_large_accounts(timeline, extras.large_posts, n)
        posts = self._cache.get_many(conn, timeline.ids, cached)  # deleted posts drop out
        next_cursor = None if timeline.next_cursor is None else encode_cursor(timeline.next_cursor)
        return HomePage(Page(posts, next_cursor), {post.id for post in posts if post.id in extras.liked})

    def ranked(self, conn: pg8000.native.Connection, user_id: int, cursor: str | None = None,
               limit: int | None = None, take: Take | None = None, now: datetime | None = None) -> HomePage:
        """The newest RANKED_WINDOW posts of the home timeline, best first; the cursor is how many were
        shown. Each page ranks again, so a post whose score changed between pages may show twice or be
        skipped: clients keep the ids they have shown."""
        n = page_size(limit)
        shown = decode_cursor(cursor) or 0
        window = self.page(conn, user_id, None, RANKED_WINDOW, take)
        at = now or datetime.now(UTC)
        ranked = sorted(window.page.items, key=lambda post: engagement_rank(post, at), reverse=True)
        more = shown + n < len(ranked)
        return HomePage(Page(ranked[shown:shown + n], encode_cursor(shown + n) if more else None), window.liked)

    def _read(self, conn: pg8000.native.Connection, user_id: int, max_id: int | None, n: int,
              take: Take | None) -> tuple[TimelinePage, dict[int, Any]]:
        """The timeline page and the cache entries read with it, in one round trip (two, and a rebuild,
        when the timeline is missing)."""
        taking = take is not None and take.decision is None
        keys = [take.bucket_key if taking and take else "", *self._feeds.home_read_keys(user_id)]
        args = [*(take.script_args if taking and take else ("0", "0")),
                *self._feeds.home_read_args(user_id, max_id, n), self._cache.key_prefix]
        reply: list[Any] = self._script(keys=keys, args=args)
        if taking and take is not None:
            decision = take.record(reply[0])
            if not decision.allowed:
                raise RateLimited(decision)
        if len(reply) < 4:
            return self._feeds.rebuilt_page(conn, user_id, max_id, n), {}
        timeline = FeedManager.page_of(reply[2], n)
        if timeline is None:  # cannot happen: the script saw members
            return self._feeds.rebuilt_page(conn, user_id, max_id, n), {}
        return timeline, dict(zip(timeline.ids, reply[3], strict=True))


# The ranked feed (optional: `order=ranked`) orders the newest posts by engagement, decayed by age.
# Scores come from the posts' own counters, which the API keeps in the transaction of each like and
# comment: nothing extra to keep consistent, and the post cache serves them.
RANKED_WINDOW = 100  # the newest posts a ranked feed chooses from (one page read, one hydration)
COMMENT_WEIGHT = 2.0  # a comment says more than a like
GRAVITY = 1.5  # Hacker News's: a post sinks with age, whatever its score


def engagement_rank(post: Post, now: datetime) -> float:
    age_hours = max(0.0, (now - (post.published_at or post.created_at)).total_seconds() / 3600)
    return (1 + post.likes_count + COMMENT_WEIGHT * post.comments_count) / (age_hours + 2) ** GRAVITY
