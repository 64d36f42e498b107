"""Home timelines in Redis: the one owner of every home-timeline operation (Mastodon's FeedManager).

Each timeline is a sorted set `timeline:home:<user_id>` of at most MAX_ITEMS post ids (ascending:
rank 0 is the oldest). Scripts and RENAME touch several timelines at once, so this needs a
non-cluster Redis (ElastiCache with cluster mode disabled).

Id encoding. Post ids are 64-bit and time-ordered (ms, shard, sequence), but sorted-set scores are
doubles with a 53-bit mantissa: above 2^53 distinct ids collapse into one score (float(2**63 - 1) ==
float(2**63 - 2)), so ids of the same millisecond would tie or misorder. Every member therefore has
score 0 and the member is the id zero-padded to 19 digits, then ":<author_id>". Redis orders
equal-score members bytewise, and fixed-width decimals sort bytewise exactly as the integers do, so
the order is exact for every id up to 2^63 - 1 (PostgreSQL's bigint), a `max_id` cursor is one
`ZRANGE ... BYLEX REV LIMIT` call with the bound "(<id>", and ZREMRANGEBYRANK trims as usual. (The
other fix, score = id >> 11 with member = id, needs a second condition for ids sharing the cursor's
score.) The author rides along, as in Twitter's entries, so readers can filter or hydrate by author;
deletes need only the id, since ZREMRANGEBYLEX "[<id>:" "(<id>;" matches whatever author follows.

Missing versus empty. A built timeline always holds the marker member "!", which sorts before every
digit (rank 0), so an empty timeline is a key holding only the marker, and a missing key means
"never built, expired or evicted": `read` answers None and the caller rebuilds it from PostgreSQL.
Like Twitter's RPUSHX rule, writes go only to timelines that exist (checked server-side in a script),
so a write never creates a partial timeline that would later be served as complete.

Activity. Users seen in the last ACTIVE_DAYS (a sorted set of last-seen times) get fan-out; a
timeline expires ACTIVE_DAYS after its owner was last seen, and `mark_active` drops the timeline of a
returning user (it missed the fan-outs of their absence) so the next read rebuilds it.

Large accounts. A user with more than LARGE_ACCOUNT_FOLLOWERS followers (`users.followers_count`) is
not fanned out: their posts are merged into each follower's page at read time (Twitter's split).

Known race (as in Mastodon): a post fanned out while its follower's timeline is being rebuilt is lost
from it if the rebuild's PostgreSQL query ran before the post was committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pg8000.native
import redis

from kafkagram.store import follows as follows_store
from kafkagram.store import posts as posts_store

MAX_ITEMS = 800  # Mastodon and Twitter keep 800 ids per home timeline
FANOUT_CHUNK = 1000  # followers per round trip (Mastodon batches 1000, Twitter pipelined 4k)
ACTIVE_DAYS = 7  # Mastodon's USER_ACTIVE_DAYS default
# Above this, one post costs more than 10 round trips and a burst of them delays every other fan-out
# (Twitter's reason to exclude such accounts): their posts are merged at read time instead.
LARGE_ACCOUNT_FOLLOWERS = 10_000
BACKFILL_POSTS = MAX_ITEMS // 4  # recent posts a follow copies in (Mastodon's merge_into_home)
DEFAULT_PAGE_SIZE = 20

MAX_ID = 2**63 - 1
ID_DIGITS = len(str(MAX_ID))  # 19
MARKER = b"!"  # sorts before "0": rank 0, marks a built timeline
ACTIVE_SECONDS = ACTIVE_DAYS * 86_400

# Both add scripts trim a timeline that grew to its cap, keeping rank 0 (the marker).
_TRIM_LUA = """
local function trim(key, cap)
  local extra = redis.call('ZCARD', key) - 1 - cap
  if extra > 0 then redis.call('ZREMRANGEBYRANK', key, 1, extra) end
end
"""

# KEYS: timelines; ARGV[1]: cap; ARGV[2..]: members. For each timeline that exists: ZADD NX, then
# trim to the cap, keeping rank 0 (the marker). Returns, per key, the number added or -1 if missing.
# A script, because "only if the key exists" has no native ZADD form and a check from the client
# would cost a round trip; it runs atomically, one call per chunk.
_ADD_SCRIPT = _TRIM_LUA + """
local cap = tonumber(ARGV[1])
local zargs = {}
for i = 2, #ARGV do
  zargs[#zargs + 1] = 0
  zargs[#zargs + 1] = ARGV[i]
end
local result = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then
    result[i] = -1
  else
    local added = 0
    if #zargs > 0 then added = redis.call('ZADD', key, 'NX', unpack(zargs)) end
    if added > 0 then trim(key, cap) end
    result[i] = added
  end
end
return result
"""


# KEYS: timelines; ARGV[1]: cap; then, per key in order, the count of its members and the members. For
# each timeline that exists: ZADD NX each member, then trim to the cap once. Returns, per key, a list
# of 1 (added) or 0 (already there) per member, or -1 if the timeline is missing. What many posts'
# fan-out writes in one round trip per chunk of timelines, each timeline getting only its own posts.
_ADD_EACH_SCRIPT = _TRIM_LUA + """
local cap = tonumber(ARGV[1])
local at = 2
local result = {}
for i, key in ipairs(KEYS) do
  local count = tonumber(ARGV[at])
  if redis.call('EXISTS', key) == 0 then
    result[i] = -1
  else
    local flags, added = {}, 0
    for j = 1, count do
      flags[j] = redis.call('ZADD', key, 'NX', 0, ARGV[at + j])
      added = added + flags[j]
    end
    if added > 0 then trim(key, cap) end
    result[i] = flags
  end
  at = at + 1 + count
end
return result
"""


@dataclass(frozen=True)
class NewPost:
    """A post to fan out: its author and everyone who follows the author (None: a large account, whose
    followers were not read)."""

    post_id: int
    author_id: int
    follower_ids: Sequence[int] | None


# The home-timeline reads as Lua functions, so that a script can compose them with other owners' steps
# in one round trip (the API's home page: kafkagram.feed adds the rate-limit token and the post cache).
# mark_active(activity key, timeline key, user id, now, ACTIVE_SECONDS) -> 1 when the user returns after
# ACTIVE_SECONDS or more, or for the first time (their timeline, which missed the fan-outs of that
# absence, is dropped), else 0 (their timeline is kept alive for ACTIVE_SECONDS more).
# timeline_range(timeline key, upper bound, count) -> members, newest first (ZRANGE BYLEX REV).
# timeline_post_ids(members, limit) -> the first `limit` post ids as decimal strings (no zero padding:
# the form other keys use), the marker skipped; Lua numbers are doubles, so ids stay strings.
HOME_READ_LUA = """
local function mark_active(activity_key, timeline_key, user, now, active_seconds)
  local last = redis.call('ZSCORE', activity_key, user)
  redis.call('ZADD', activity_key, now, user)
  if last and tonumber(last) >= tonumber(now) - tonumber(active_seconds) then
    redis.call('EXPIRE', timeline_key, active_seconds)
    return 0
  end
  redis.call('DEL', timeline_key)
  return 1
end
local function timeline_range(key, upper, count)
  return redis.call('ZRANGE', key, upper, '-', 'BYLEX', 'REV', 'LIMIT', 0, count)
end
local function timeline_post_ids(rows, limit)
  local ids = {}
  for _, row in ipairs(rows) do
    if #ids >= limit then break end
    local id = string.match(row, '^0*(%d+):')
    if id then ids[#ids + 1] = id end
  end
  return ids
end
"""
# KEYS: activity set, timeline. ARGV: user id, now, ACTIVE_SECONDS.
_MARK_ACTIVE_SCRIPT = HOME_READ_LUA + "return mark_active(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])\n"


@dataclass(frozen=True)
class TimelinePage:
    """Post ids newest first; `next_cursor` is the `max_id` of the next page, None at the end."""

    ids: list[int]
    next_cursor: int | None
    author_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class FanOut:
    """What `fan_out` did with one post."""

    recipients: list[int]  # followers whose timeline gained the post now (a redelivery gains nothing)
    inactive: int  # followers skipped as inactive (rebuilt when they return)
    large_account: bool  # True: no follower's timeline written, the post is merged at read time
    active: list[int] = field(default_factory=list)  # the followers it was written for (live updates)


def is_large_account(follower_count: int) -> bool:
    """The one definition (the SQL of `store.pages` and `follower_ids_unless_more_than` asks the same of
    `users.followers_count`)."""
    return follower_count > LARGE_ACCOUNT_FOLLOWERS


def member(post_id: int, author_id: int) -> bytes:
    if not 0 <= post_id <= MAX_ID:
        raise ValueError(f"post id out of the 63-bit range: {post_id}")
    return b"%0*d:%d" % (ID_DIGITS, post_id, author_id)


def parse_member(value: bytes | str) -> tuple[int, int]:
    raw = value.encode() if isinstance(value, str) else value
    post_id, _, author_id = raw.partition(b":")
    return int(post_id), int(author_id)


def _id_prefix(post_id: int) -> bytes:
    return b"%0*d" % (ID_DIGITS, post_id)


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _newest(posts: Iterable[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    return sorted(set(posts), reverse=True)[:count]


class FeedManager:
    """Every home-timeline operation. The flows call `fan_out` (post-created), `remove` (post-deleted),
    `backfill` / `unmerge_author` (followed / unfollowed); the API's page (kafkagram.feed) composes
    `home_read_keys` / `home_read_args` into its one script, then calls `rebuilt_page` when the timeline
    is missing and `merge_large_accounts` for the followed large accounts; the seed calls `regenerate`.
    The lower-level writes (`push`, `merge`, `unmerge`, `rebuild`) and `read` are Redis only. Every
    operation is batched: one round trip per FANOUT_CHUNK followers or ids, never one per follower."""

    def __init__(self, client: redis.Redis, prefix: str = "", clock: Callable[[], float] = time.time) -> None:
        self._redis = client
        self._prefix = prefix
        self._clock = clock  # injectable so activity can be tested without waiting days
        self._add = client.register_script(_ADD_SCRIPT)
        self._add_each = client.register_script(_ADD_EACH_SCRIPT)

    def timeline_key(self, user_id: int) -> str:
        return f"{self._prefix}timeline:home:{user_id}"

    @property
    def activity_key(self) -> str:
        return f"{self._prefix}timeline:active"

    # Writes ---------------------------------------------------------------------------------------

    def fan_out(self, post_id: int, author_id: int, follower_ids: Sequence[int]) -> FanOut:
        """The post-created policy for one post (see `fan_out_many`)."""
        return self.fan_out_many([NewPost(post_id, author_id, follower_ids)])[0]

    def fan_out_many(self, posts: Sequence[NewPost]) -> list[FanOut]:
        """The post-created policy: the author's own timeline and the active followers' get the post;
        inactive followers are skipped (rebuilt when they return), and so are a large account's.

        Many posts cost what one does: one activity lookup for all their followers, then one script
        call per FANOUT_CHUNK timelines, each timeline getting every post it should in that call."""
        large = [post.follower_ids is None or is_large_account(len(post.follower_ids)) for post in posts]
        followers = [f for post, skip in zip(posts, large, strict=True) if not skip for f in post.follower_ids or ()]
        active_now = set(self.active_followers(list(dict.fromkeys(followers))))
        wanted: dict[int, list[tuple[int, bytes]]] = {}  # timeline owner -> (post id, member) to add
        actives: list[list[int]] = []
        for post, skip in zip(posts, large, strict=True):
            entry = member(post.post_id, post.author_id)
            active = [] if skip else [f for f in post.follower_ids or () if f in active_now]
            actives.append(active)
            for user_id in dict.fromkeys([*active, post.author_id]):  # the author's own timeline too
                wanted.setdefault(user_id, []).append((post.post_id, entry))
        gained = self._add_each_member(wanted)
        return [FanOut(recipients=[f for f in active if (f, post.post_id) in gained],
                       inactive=0 if skip else len(post.follower_ids or ()) - len(active), large_account=skip,
                       active=active)
                for post, skip, active in zip(posts, large, actives, strict=True)]

    def _add_each_member(self, wanted: dict[int, list[tuple[int, bytes]]]) -> set[tuple[int, int]]:
        """Adds each timeline's own members, one script call per FANOUT_CHUNK timelines; returns the
        (owner, post id) pairs that were added now (not there before, timeline not missing)."""
        gained: set[tuple[int, int]] = set()
        owners = list(wanted)
        for chunk in _chunks(owners, FANOUT_CHUNK):
            args: list[Any] = [MAX_ITEMS]
            for owner in chunk:
                args.append(len(wanted[owner]))
                args.extend(entry for _, entry in wanted[owner])
            flags = self._add_each(keys=[self.timeline_key(owner) for owner in chunk], args=args)
            for owner, added in zip(chunk, flags, strict=True):
                if isinstance(added, list):
                    gained.update((owner, post_id) for (post_id, _), flag in zip(wanted[owner], added, strict=True)
                                  if flag)
        return gained

    def push(self, post_id: int, author_id: int, follower_ids: Sequence[int]) -> list[int]:
        """Adds the post to every given follower's existing timeline, one script call per chunk.

        Returns the followers whose timeline gained it (a redelivered post gains nothing)."""
        entry = member(post_id, author_id)
        recipients: list[int] = []
        for chunk in _chunks(follower_ids, FANOUT_CHUNK):
            added = self._add(keys=[self.timeline_key(f) for f in chunk], args=[MAX_ITEMS, entry])
            recipients.extend(f for f, n in zip(chunk, added, strict=True) if n > 0)
        return recipients

    def remove(self, post_id: int, follower_ids: Sequence[int]) -> list[int]:
        """Removes a deleted post from the followers' timelines; returns those that held it."""
        low, high = self._id_bounds(post_id)
        removed: list[int] = []
        for chunk in _chunks(follower_ids, FANOUT_CHUNK):
            pipe = self._redis.pipeline(transaction=False)
            for follower in chunk:
                pipe.zremrangebylex(self.timeline_key(follower), low, high)
            removed.extend(f for f, n in zip(chunk, pipe.execute(), strict=True) if n)
        return removed

    def merge(self, follower_id: int, posts: Iterable[tuple[int, int]]) -> int | None:
        """Backfill on follow: adds the newest BACKFILL_POSTS of (post_id, author_id), trimmed.

        Returns the number added, or None when the timeline is missing (the next read rebuilds it)."""
        entries = [member(p, a) for p, a in _newest(posts, BACKFILL_POSTS)]
        added = self._add(keys=[self.timeline_key(follower_id)], args=[MAX_ITEMS, *entries])[0]
        return None if added < 0 else int(added)

    def unmerge(self, follower_id: int, post_ids: Sequence[int]) -> int:
        """Unfollow: removes the given posts from one timeline; returns how many it held."""
        key = self.timeline_key(follower_id)
        removed = 0
        for chunk in _chunks(post_ids, FANOUT_CHUNK):
            pipe = self._redis.pipeline(transaction=False)
            for post_id in chunk:
                pipe.zremrangebylex(key, *self._id_bounds(post_id))
            removed += sum(pipe.execute())
        return removed

    def rebuild(self, user_id: int, posts: Iterable[tuple[int, int]]) -> None:
        """Replaces the timeline with the newest MAX_ITEMS of (post_id, author_id), atomically.

        Built in a temporary key and renamed, inside MULTI so a dropped connection leaves no
        half-built key behind; readers see the old timeline or the new one, never a partial one."""
        key = self.timeline_key(user_id)
        entries: dict[bytes, float] = {MARKER: 0}
        entries.update((member(p, a), 0) for p, a in _newest(posts, MAX_ITEMS))
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(f"{key}:rebuild")
        pipe.zadd(f"{key}:rebuild", entries)
        pipe.rename(f"{key}:rebuild", key)
        pipe.expire(key, ACTIVE_SECONDS)
        pipe.execute()

    # Reads ----------------------------------------------------------------------------------------

    def read(self, user_id: int, max_id: int | None = None, limit: int = DEFAULT_PAGE_SIZE) -> TimelinePage | None:
        """Up to `limit` ids below `max_id` (exclusive), newest first, in one ZRANGE call.

        None means the timeline is missing: rebuild it from PostgreSQL, never show it empty."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        # limit + 1: an extra id says another page exists; the marker says the bottom was reached.
        rows: list[Any] = self._redis.zrange(self.timeline_key(user_id), self._upper_bound(max_id), "-",
                                             desc=True, bylex=True, offset=0, num=limit + 1)
        return self.page_of(rows, limit)

    @staticmethod
    def page_of(rows: Sequence[bytes | str], limit: int) -> TimelinePage | None:
        """The page of up to `limit + 1` members read newest first (`read`, or timeline_range in a
        script); None when there were none (the timeline is missing)."""
        if not rows:
            return None
        entries = [parse_member(row) for row in rows if row not in (MARKER, MARKER.decode())]
        more = len(entries) > limit
        entries = entries[:limit]
        return TimelinePage(ids=[p for p, _ in entries], author_ids=[a for _, a in entries],
                            next_cursor=entries[-1][0] if more else None)

    def home_read_keys(self, user_id: int) -> list[str]:
        """KEYS of HOME_READ_LUA's mark_active for `user_id`; timeline_range reads the second."""
        return [self.activity_key, self.timeline_key(user_id)]

    def home_read_args(self, user_id: int, max_id: int | None, limit: int) -> list[Any]:
        """ARGV of mark_active (user, now, ACTIVE_SECONDS), then timeline_range's bound and count
        (limit + 1, as `read` asks) for a page below `max_id`."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        return [str(user_id), repr(self._clock()), ACTIVE_SECONDS, self._upper_bound(max_id), limit + 1]

    @staticmethod
    def merge_large_accounts(page: TimelinePage, large_posts: Iterable[tuple[int, int]],
                             limit: int) -> TimelinePage:
        """Merges recent (post_id, author_id) of followed large accounts into a page read with the
        same `max_id` and `limit`. The caller passes at most `limit` of them, all below that max_id
        (one indexed PostgreSQL query); the result pages on correctly with its next_cursor."""
        large = list(large_posts)
        union = dict(zip(page.ids, page.author_ids, strict=True))
        union.update(large)
        newest = sorted(union.items(), reverse=True)[:limit]
        more = page.next_cursor is not None or len(union) > limit or len(large) >= limit
        return TimelinePage(ids=[p for p, _ in newest], author_ids=[a for _, a in newest],
                            next_cursor=newest[-1][0] if more and newest else None)

    # With PostgreSQL: the source of truth for rebuilds, backfills and large accounts ---------------

    def rebuilt_page(self, conn: pg8000.native.Connection, user_id: int, max_id: int | None,
                     limit: int) -> TimelinePage:
        """A page of a timeline that was missing: rebuilt from PostgreSQL first, then read."""
        self.regenerate(conn, user_id)
        # Still None when evicted between the rebuild and the read (memory pressure): from PostgreSQL.
        return self.read(user_id, max_id, limit) or self._page_from_store(conn, user_id, max_id, limit)

    def regenerate(self, conn: pg8000.native.Connection, user_id: int) -> None:
        """Rebuild the timeline from PostgreSQL: the user's and their followees' newest published posts,
        as fan-out would have written them."""
        self.rebuild(user_id, self._followed_posts(conn, user_id, None, MAX_ITEMS))

    def backfill(self, conn: pg8000.native.Connection, follower_id: int, followee_id: int) -> int | None:
        """A new follow: the followee's newest BACKFILL_POSTS go into the follower's timeline (None:
        the timeline is missing, and its rebuild will include them)."""
        return self.merge(follower_id, posts_store.recent_post_refs(conn, [followee_id], BACKFILL_POSTS))

    def unmerge_author(self, follower_id: int, author_id: int) -> int | None:
        """An unfollow: the author's posts leave the follower's timeline. Members carry their author, so
        one read of the (at most MAX_ITEMS) timeline finds exactly them, whatever their age or status,
        without asking PostgreSQL. None: the timeline is missing."""
        page = self.read(follower_id, limit=MAX_ITEMS)
        if page is None:
            return None
        theirs = [post_id for post_id, author in zip(page.ids, page.author_ids, strict=True) if author == author_id]
        return self.unmerge(follower_id, theirs) if theirs else 0

    @staticmethod
    def audiences(conn: pg8000.native.Connection, author_ids: list[int]) -> dict[int, list[int] | None]:
        """Whom each author's posts fan out to: their followers, or None for a large account (its
        followers are not read: they merge its posts at read time). One query."""
        return follows_store.follower_ids_unless_more_than(conn, author_ids, LARGE_ACCOUNT_FOLLOWERS)

    @staticmethod
    def _followed_posts(conn: pg8000.native.Connection, user_id: int, before: int | None,
                        limit: int) -> list[tuple[int, int]]:
        # The user's own posts too: fan-out writes them to the author's timeline.
        return posts_store.recent_post_refs(conn, [user_id, *follows_store.followee_ids(conn, user_id)], limit,
                                            before)

    def _page_from_store(self, conn: pg8000.native.Connection, user_id: int, max_id: int | None,
                         limit: int) -> TimelinePage:
        refs = self._followed_posts(conn, user_id, max_id, limit + 1)
        kept = refs[:limit]
        more = len(refs) > limit
        return TimelinePage(ids=[p for p, _ in kept], author_ids=[a for _, a in kept],
                            next_cursor=kept[-1][0] if more and kept else None)

    # Activity -------------------------------------------------------------------------------------

    def mark_active(self, user_id: int) -> bool:
        """Records that the user was seen now and keeps their timeline alive for ACTIVE_DAYS.

        Returns True when they come back after ACTIVE_DAYS or more (or for the first time): their
        timeline, which missed the fan-outs of that absence, is dropped so the next read rebuilds it."""
        keys = self.home_read_keys(user_id)
        return bool(self._mark_active(keys=keys, args=self.home_read_args(user_id, None, 1)[:3]))

    @cached_property
    def _mark_active(self) -> Any:
        """One atomic round trip (HOME_READ_LUA's mark_active), the step the home page's script composes."""
        return self._redis.register_script(_MARK_ACTIVE_SCRIPT)

    @property
    def client(self) -> redis.Redis:
        """The Redis client: scripts that compose HOME_READ_LUA run on it."""
        return self._redis

    def active_followers(self, follower_ids: Sequence[int]) -> list[int]:
        """The followers seen in the last ACTIVE_DAYS, one ZMSCORE per chunk in a single pipeline."""
        if not follower_ids:
            return []
        cutoff = self._clock() - ACTIVE_SECONDS
        pipe = self._redis.pipeline(transaction=False)
        for chunk in _chunks(follower_ids, FANOUT_CHUNK):
            pipe.zmscore(self.activity_key, [str(f) for f in chunk])
        scores: list[Any] = [s for chunk_scores in pipe.execute() for s in chunk_scores]
        return [f for f, s in zip(follower_ids, scores, strict=True) if s is not None and s >= cutoff]

    # Encoding -------------------------------------------------------------------------------------

    @staticmethod
    def _upper_bound(max_id: int | None) -> bytes:
        if max_id is None or max_id > MAX_ID:
            return b"+"
        return b"(" + _id_prefix(max(max_id, 0))

    @staticmethod
    def _id_bounds(post_id: int) -> tuple[bytes, bytes]:
        """Lex range of every member of one post id, whatever author follows the ':'."""
        prefix = _id_prefix(post_id)
        return b"[" + prefix + b":", b"(" + prefix + b";"
