"""Explore in Redis: the one owner of what Discovery keeps (popular posts, trending tags) and of how it
is ranked, as FeedManager is of home timelines.

Popular posts. One sorted set, `explore:popular`, of post ids (decimal). A post's worth is its weight
w = 1 + likes + COMMENT_WEIGHT x comments, halved every HALF_LIFE_HOURS of age: w x 2^-(now - t)/h, with
t its publication time. Comparing two posts at any `now` is comparing log2(w) + t/h (the `now` term is
the same for both), so that is the stored score (`popularity`): it never has to be rewritten as time
passes, only when w changes (Reddit's "hot" and Hacker News-style decay, kept in log space). The set
holds the best POPULAR_MAX_POSTS published in the last POPULAR_WINDOW_DAYS; older or worse ones are
trimmed.

Trending tags. Hourly buckets: `explore:tags:<hour start, unix s>` counts, per tag, the posts published
in that hour that carry it, and `explore:tags:<hour>:posts` remembers which posts were counted with which
tags (a post counts once, however often it is synced, and its deletion takes back exactly what it added).
Buckets expire once they leave the TAG_WINDOW_HOURS window; a read sums the window's buckets
(ZUNIONSTORE) into `explore:trending`, kept until the next change or TRENDING_CACHE_S.

Idempotent by construction. `sync` never increments from an event: it is told which posts changed and
sets each entry from the post's row in PostgreSQL (published? its counters, tags and publication time),
so a redelivered, replayed or reordered event writes the same thing again; the tag counts move only
when the per-bucket post hash gains or loses the post, in the same atomic script. Every batch is one
PostgreSQL query and one Redis round trip (one script call).

Known race: a like synced by one partition may read a post just before another partition deletes it and
write its score after that deletion's sync; the read path keeps only published posts, so it never
shows, and it is trimmed like any other entry. The scripts name several keys, so this needs a
non-cluster Redis (as timelines do).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pg8000.native
import redis

from kafkagram.store import discovery as discovery_store
from kafkagram.store.discovery import PostState
from kafkagram.store.models import UserSummary

HALF_LIFE_HOURS = 12  # a post's weight halves every 12 hours: a day-old post needs 4x the likes of a new one
COMMENT_WEIGHT = 2.0  # a comment says more than a like (as the ranked home feed counts them)
POPULAR_WINDOW_DAYS = 7  # older posts leave the grid, whatever their likes
POPULAR_MAX_POSTS = 1000  # the set's cap: the best ones are all a grid pages through
CANDIDATES = 300  # the best posts a viewer's grid is chosen from (one range read, one filtering query)
DEFAULT_PAGE_SIZE = 24  # eight rows of three
TAG_BUCKET_S = 3600  # trending tags are counted per hour
TAG_WINDOW_HOURS = 24  # and summed over the last day
TAGS_PER_POST_MAX = 30  # Instagram's limit: a caption stuffed with tags counts for its first 30
DEFAULT_TRENDING_TAGS = 10
TRENDING_CACHE_S = 60  # the window's sum is recomputed at most this often while no tag changes
SUGGESTIONS = 10  # suggested people per request
SUGGESTION_FOLLOWEES_SAMPLE = 200  # the viewer's most recent follows whose follows are counted
SUGGESTION_PER_FOLLOWEE_SAMPLE = 200  # and each one's most recent follows

HALF_LIFE_S = HALF_LIFE_HOURS * 3600
POPULAR_WINDOW_S = POPULAR_WINDOW_DAYS * 86_400
TAG_WINDOW_S = TAG_WINDOW_HOURS * TAG_BUCKET_S

# KEYS[1]: the popular set; KEYS[2]: the trending cache; then, per tag bucket, its counts and its posts hash.
# ARGV[1]: the popular cap; ARGV[2]: how many buckets; then each bucket's expiry (unix s); then per post:
# op ("add" or "drop"), id, score, bucket index (1-based, 0: none), tag count, tags.
# "add": the post enters (or is re-scored in) the popular set; with a bucket, it is counted under its tags
# unless that bucket's hash already has it. "drop": it leaves the popular set; with a bucket, the tags the
# hash says it was counted under are taken back. Returns how many tag counts changed.
_SYNC_SCRIPT = """
local popular, trending = KEYS[1], KEYS[2]
local cap, buckets = tonumber(ARGV[1]), tonumber(ARGV[2])
local at, changed = 3 + buckets, 0
while at <= #ARGV do
  local op, id, score, bucket, n = ARGV[at], ARGV[at + 1], ARGV[at + 2], tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
  local counts, posts = KEYS[1 + 2 * bucket], KEYS[2 + 2 * bucket]
  if op == 'add' then
    redis.call('ZADD', popular, score, id)
    if bucket > 0 and n > 0 then
      local tags = {}
      for i = 1, n do tags[i] = ARGV[at + 4 + i] end
      if redis.call('HSETNX', posts, id, table.concat(tags, ' ')) == 1 then
        for _, tag in ipairs(tags) do redis.call('ZINCRBY', counts, 1, tag) end
        changed = changed + n
      end
    end
  else
    redis.call('ZREM', popular, id)
    if bucket > 0 then
      local tags = redis.call('HGET', posts, id)
      if tags then
        redis.call('HDEL', posts, id)
        for tag in string.gmatch(tags, '%S+') do
          if tonumber(redis.call('ZINCRBY', counts, -1, tag)) <= 0 then redis.call('ZREM', counts, tag) end
          changed = changed + 1
        end
      end
    end
  end
  at = at + 5 + n
end
for b = 1, buckets do
  local expire_at = ARGV[2 + b]
  redis.call('EXPIREAT', KEYS[1 + 2 * b], expire_at)
  redis.call('EXPIREAT', KEYS[2 + 2 * b], expire_at)
end
local extra = redis.call('ZCARD', popular) - cap
if extra > 0 then redis.call('ZREMRANGEBYRANK', popular, 0, extra - 1) end
if changed > 0 then redis.call('DEL', trending) end
return changed
"""

# KEYS[1]: the trending cache; KEYS[2..]: the window's buckets. ARGV[1]: cache seconds; ARGV[2]: how many.
# The best tags with their counts, highest first (ties: reverse lexical order, Redis's REV).
_TRENDING_SCRIPT = """
local cache = KEYS[1]
if redis.call('EXISTS', cache) == 0 and #KEYS > 1 then
  local buckets = {}
  for i = 2, #KEYS do buckets[#buckets + 1] = KEYS[i] end
  if redis.call('ZUNIONSTORE', cache, #buckets, unpack(buckets)) > 0 then
    redis.call('EXPIRE', cache, tonumber(ARGV[1]))
  end
end
return redis.call('ZRANGE', cache, 0, tonumber(ARGV[2]) - 1, 'REV', 'WITHSCORES')
"""


def popularity(likes: int, comments: int, published_at: datetime) -> float:
    """The stored score: log2 of the weight plus the publication time in half-lives (see the module)."""
    weight = 1 + max(likes, 0) + COMMENT_WEIGHT * max(comments, 0)
    return math.log2(weight) + published_at.timestamp() / HALF_LIFE_S


def tag_bucket(published_at: datetime) -> int:
    """The start (unix s) of the hour bucket a post published at `published_at` is counted in."""
    seconds = int(published_at.timestamp())
    return seconds - seconds % TAG_BUCKET_S


@dataclass(frozen=True)
class SyncOutcome:
    ranked: int = 0  # posts now in the popular set (added or re-scored)
    dropped: int = 0  # posts taken out (deleted, unpublished, missing or older than the window)
    tag_changes: int = 0  # tag counts changed (0 when every tag was counted already)


@dataclass(frozen=True)
class ExplorePage:
    post_ids: list[int]
    liked: set[int]
    next_offset: int | None  # where the next page starts among the viewer's candidates; None: the last page


@dataclass(frozen=True)
class TrendingTag:
    tag: str
    posts: int  # posts of the window that carry it


@dataclass(frozen=True)
class Suggestion:
    user: UserSummary
    mutuals: int  # people the viewer follows who follow them


class Discovery:
    def __init__(self, client: redis.Redis, prefix: str = "", clock: Callable[[], float] = time.time) -> None:
        self._redis = client
        self._prefix = prefix  # tests isolate their keys with it
        self._clock = clock  # injectable so that windows can be tested without waiting hours
        self._sync = client.register_script(_SYNC_SCRIPT)
        self._trending = client.register_script(_TRENDING_SCRIPT)

    # Keys -----------------------------------------------------------------------------------------

    @property
    def popular_key(self) -> str:
        return f"{self._prefix}explore:popular"

    @property
    def trending_key(self) -> str:
        return f"{self._prefix}explore:trending"

    def tag_counts_key(self, bucket: int) -> str:
        return f"{self._prefix}explore:tags:{bucket}"

    def tag_posts_key(self, bucket: int) -> str:
        return f"{self._prefix}explore:tags:{bucket}:posts"

    def window_buckets(self) -> list[int]:
        """The hour buckets of the trending window, newest first (the current, partial hour included)."""
        now = int(self._clock())
        newest = now - now % TAG_BUCKET_S
        return [newest - i * TAG_BUCKET_S for i in range(TAG_WINDOW_HOURS)]

    # Writes ---------------------------------------------------------------------------------------

    def sync(self, conn: pg8000.native.Connection, post_ids: Iterable[int]) -> SyncOutcome:
        """Bring these posts' entries in line with PostgreSQL: one query, one script call."""
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return SyncOutcome()
        states = discovery_store.post_states(conn, ids)
        return self.apply([states.get(post_id) or _missing(post_id) for post_id in ids])

    def apply(self, states: Sequence[PostState]) -> SyncOutcome:
        """Write these post states (one script call): see `sync`."""
        now = self._clock()
        oldest_bucket = self.window_buckets()[-1]
        buckets: dict[int, int] = {}  # bucket start -> its 1-based index among the script's buckets
        entries: list[Any] = []
        ranked = 0
        for state in states:
            ranks = (state.published and state.published_at is not None
                     and state.published_at.timestamp() > now - POPULAR_WINDOW_S)
            tags = list(dict.fromkeys(state.hashtags))[:TAGS_PER_POST_MAX] if ranks else []
            bucket = tag_bucket(state.published_at) if state.published_at is not None else None
            index = 0  # no bucket: nothing to count (no tags) or to take back (outside the window)
            if bucket is not None and bucket >= oldest_bucket and (tags or not ranks):
                index = buckets.setdefault(bucket, len(buckets) + 1)
            score = (popularity(state.likes_count, state.comments_count, state.published_at)
                     if ranks and state.published_at is not None else 0.0)
            entries.extend(["add" if ranks else "drop", str(state.id), repr(score), index, len(tags), *tags])
            ranked += bool(ranks)
        keys = [self.popular_key, self.trending_key]
        for bucket in buckets:
            keys.extend([self.tag_counts_key(bucket), self.tag_posts_key(bucket)])
        args = [POPULAR_MAX_POSTS, len(buckets), *(b + TAG_BUCKET_S + TAG_WINDOW_S for b in buckets), *entries]
        changed = int(self._sync(keys=keys, args=args))
        return SyncOutcome(ranked=ranked, dropped=len(states) - ranked, tag_changes=changed)

    def rebuild(self, conn: pg8000.native.Connection) -> tuple[int, int]:
        """Replace everything Discovery keeps with what PostgreSQL says (after `make seed`, or a Redis that
        lost its data), in one MULTI: readers see the old state or the new one. Returns (posts ranked,
        tagged posts counted)."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        best = discovery_store.best_published_since(conn, now - timedelta(seconds=POPULAR_WINDOW_S),
                                                    POPULAR_MAX_POSTS, COMMENT_WEIGHT, HALF_LIFE_S)
        buckets = self.window_buckets()
        tagged = discovery_store.tagged_published_since(
            conn, datetime.fromtimestamp(buckets[-1], UTC))
        counts: dict[int, dict[str, int]] = {bucket: {} for bucket in buckets}
        posts: dict[int, dict[str, str]] = {bucket: {} for bucket in buckets}
        for state in tagged:
            assert state.published_at is not None  # published posts have it (a CHECK)
            bucket = tag_bucket(state.published_at)
            if bucket not in counts:  # published "in the future" (clock skew): the next rebuild has it
                continue
            tags = list(dict.fromkeys(state.hashtags))[:TAGS_PER_POST_MAX]
            posts[bucket][str(state.id)] = " ".join(tags)
            for tag in tags:
                counts[bucket][tag] = counts[bucket].get(tag, 0) + 1
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self.popular_key, self.trending_key)
        if best:
            pipe.zadd(self.popular_key, {str(s.id): popularity(s.likes_count, s.comments_count, s.published_at)
                                         for s in best if s.published_at is not None})
        for bucket in buckets:
            pipe.delete(self.tag_counts_key(bucket), self.tag_posts_key(bucket))
            if counts[bucket]:
                pipe.zadd(self.tag_counts_key(bucket), counts[bucket])
                pipe.hset(self.tag_posts_key(bucket), mapping=posts[bucket])  # type: ignore[arg-type]  # invariant key
                expire_at = bucket + TAG_BUCKET_S + TAG_WINDOW_S
                pipe.expireat(self.tag_counts_key(bucket), expire_at)
                pipe.expireat(self.tag_posts_key(bucket), expire_at)
        pipe.execute()
        return len(best), len(tagged)

    # Reads ----------------------------------------------------------------------------------------

    def ranked_ids(self, limit: int = CANDIDATES) -> list[int]:
        """The best `limit` post ids, best first (one ZRANGE)."""
        members: list[Any] = self._redis.zrange(self.popular_key, 0, limit - 1, desc=True)
        return [int(member) for member in members]

    def score(self, post_id: int) -> float | None:
        value: Any = self._redis.zscore(self.popular_key, str(post_id))
        return None if value is None else float(value)

    def page(self, conn: pg8000.native.Connection, viewer_id: int, offset: int = 0,
             limit: int = DEFAULT_PAGE_SIZE) -> ExplorePage:
        """A page of the viewer's grid: the best CANDIDATES posts without their own and their followees'
        (and without any no longer published), from `offset` among those. One Redis read and one query;
        the page is re-ranked at each request, so clients drop ids they have shown already."""
        if limit < 1 or offset < 0:
            raise ValueError("limit must be at least 1 and offset not negative")
        rows = discovery_store.unfollowed_posts(conn, viewer_id, self.ranked_ids(), offset, limit + 1)
        kept = rows[:limit]
        return ExplorePage([post_id for post_id, _ in kept], {post_id for post_id, liked in kept if liked},
                           offset + limit if len(rows) > limit else None)

    def trending_tags(self, limit: int = DEFAULT_TRENDING_TAGS) -> list[TrendingTag]:
        """The tags most posted in the last TAG_WINDOW_HOURS, most first (one script call)."""
        if limit < 1:
            return []
        keys = [self.trending_key, *(self.tag_counts_key(bucket) for bucket in self.window_buckets())]
        flat: list[Any] = self._trending(keys=keys, args=[TRENDING_CACHE_S, limit])
        return [TrendingTag(_text(flat[i]), int(float(flat[i + 1]))) for i in range(0, len(flat), 2)
                if float(flat[i + 1]) > 0]

    @staticmethod
    def suggestions(conn: pg8000.native.Connection, viewer_id: int, limit: int = SUGGESTIONS) -> list[Suggestion]:
        """People followed by the people the viewer follows, most mutuals first: one query per request
        (PostgreSQL has the graph; nothing to keep current)."""
        return [Suggestion(user, mutuals) for user, mutuals in discovery_store.suggested_people(
            conn, viewer_id, limit, SUGGESTION_FOLLOWEES_SAMPLE, SUGGESTION_PER_FOLLOWEE_SAMPLE)]


def _missing(post_id: int) -> PostState:
    """A post with no row (its author's account was removed): it leaves the set. Its tags cannot be found
    without the row; they expire with their bucket."""
    return PostState(post_id, False, None, 0, 0, [])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
