"""FeedManager against the real Redis (db 15), each test under its own key prefix."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.client import Pipeline

from kafkagram.timeline import (
    ACTIVE_SECONDS,
    BACKFILL_POSTS,
    FANOUT_CHUNK,
    LARGE_ACCOUNT_FOLLOWERS,
    MAX_ID,
    MAX_ITEMS,
    FeedManager,
    NewPost,
    TimelinePage,
)
from tests.support.services import REDIS_TEST_URL

MS_SHIFT = 23  # Instagram-style ids: 41 bits of milliseconds, then 13 bits of shard, 10 of sequence
NOW = 1_700_000_000.0
AUTHOR = 7


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class CountingPipeline(Pipeline):
    owner: CountingRedis

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        self.owner.round_trips.append(f"pipeline of {len(self.command_stack)}")
        return super().execute(raise_on_error)


class CountingRedis(redis.Redis):
    """The real client; records each round trip we make: a command, or a whole pipeline."""

    round_trips: list[str]

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.round_trips.append(str(args[0]))
        return super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> CountingPipeline:
        pipe = CountingPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.owner = self
        return pipe


@pytest.fixture
def client() -> Iterator[CountingRedis]:
    connection = CountingRedis(connection_pool=redis.ConnectionPool.from_url(REDIS_TEST_URL))
    connection.round_trips = []
    yield connection
    connection.connection_pool.disconnect()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def feeds(client: CountingRedis, unique: str, clock: Clock) -> Iterator[FeedManager]:
    prefix = f"test:{unique}:"
    yield FeedManager(client, prefix=prefix, clock=clock)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def all_ids(feeds: FeedManager, user_id: int, page_size: int = 100) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        page = feeds.read(user_id, cursor, page_size)
        assert page is not None
        ids.extend(page.ids)
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def build_empty(feeds: FeedManager, users: list[int]) -> None:
    for user in users:
        feeds.rebuild(user, [])


def test_push_reaches_every_given_follower(feeds: FeedManager):
    followers = list(range(100, 140))
    build_empty(feeds, followers)
    assert feeds.push(5001, AUTHOR, followers) == followers
    for follower in followers:
        page = feeds.read(follower, None, 10)
        assert page == TimelinePage(ids=[5001], next_cursor=None, author_ids=[AUTHOR])


def test_push_skips_missing_timelines_which_read_reports_as_missing(feeds: FeedManager, client: CountingRedis):
    feeds.rebuild(1, [])
    assert feeds.push(5001, AUTHOR, [1, 2]) == [1]
    assert not client.exists(feeds.timeline_key(2)), "a write must not create a partial timeline"
    assert feeds.read(2, None, 10) is None


def test_trim_keeps_exactly_max_items_newest(feeds: FeedManager, client: CountingRedis):
    feeds.rebuild(1, [(post, AUTHOR) for post in range(1, MAX_ITEMS + 51)])  # rebuild keeps the newest too
    assert all_ids(feeds, 1) == list(range(MAX_ITEMS + 50, 50, -1))
    for post in range(MAX_ITEMS + 51, MAX_ITEMS + 61):
        feeds.push(post, AUTHOR, [1])
    assert all_ids(feeds, 1) == list(range(MAX_ITEMS + 60, 60, -1))
    feeds.push(3, AUTHOR, [1])  # older than everything kept: trimmed at once
    assert all_ids(feeds, 1) == list(range(MAX_ITEMS + 60, 60, -1))
    assert client.zcard(feeds.timeline_key(1)) == MAX_ITEMS + 1  # the posts and the marker


def test_push_is_idempotent(feeds: FeedManager):
    build_empty(feeds, [1, 2])
    assert feeds.push(5001, AUTHOR, [1, 2]) == [1, 2]
    assert feeds.push(5001, AUTHOR, [1, 2]) == []
    assert all_ids(feeds, 1) == [5001]


def test_remove_takes_the_post_out_of_every_timeline(feeds: FeedManager):
    build_empty(feeds, [1, 2, 3])
    feeds.push(5001, AUTHOR, [1, 2, 3])
    feeds.push(5002, AUTHOR + 1, [1, 2])
    assert feeds.remove(5001, [1, 2, 3, 4]) == [1, 2, 3]
    assert feeds.remove(5001, [1, 2, 3]) == []
    assert [all_ids(feeds, user) for user in (1, 2, 3)] == [[5002], [5002], []]


def test_merge_backfills_the_newest_posts_and_unmerge_removes_them(feeds: FeedManager, client: CountingRedis):
    own = [(post, AUTHOR) for post in range(1, 1000, 10)]
    feeds.rebuild(1, own)
    followee = [(post, 99) for post in range(2, 2 + 4 * (BACKFILL_POSTS + 50), 4)]  # even: no id clash
    assert feeds.merge(1, followee) == BACKFILL_POSTS
    assert feeds.merge(1, followee) == 0
    newest = sorted(followee, reverse=True)[:BACKFILL_POSTS]
    assert all_ids(feeds, 1) == sorted({p for p, _ in own} | {p for p, _ in newest}, reverse=True)
    assert feeds.unmerge(1, [p for p, _ in followee]) == BACKFILL_POSTS
    assert all_ids(feeds, 1) == sorted((p for p, _ in own), reverse=True)
    assert feeds.merge(2, followee) is None
    assert not client.exists(feeds.timeline_key(2))


def test_rebuild_replaces_atomically(feeds: FeedManager, client: CountingRedis, unique: str):
    first = [(post, AUTHOR) for post in range(1, MAX_ITEMS + 1)]
    second = [(post, AUTHOR) for post in range(10_001, 10_001 + MAX_ITEMS, 2)]
    expected = ({p for p, _ in first}, {p for p, _ in second})
    feeds.rebuild(1, first)
    reader_client = redis.Redis.from_url(REDIS_TEST_URL)  # its own connection, read from another thread
    reader = FeedManager(reader_client, prefix=f"test:{unique}:")
    seen: list[set[int] | None] = []
    done = threading.Event()

    def read_until_done() -> None:
        while not done.is_set():
            page = reader.read(1, None, MAX_ITEMS)
            seen.append(None if page is None else set(page.ids))

    thread = threading.Thread(target=read_until_done)
    thread.start()
    for round_ in range(100):
        feeds.rebuild(1, second if round_ % 2 == 0 else first)
    done.set()
    thread.join()
    reader_client.close()
    assert seen and all(ids in expected for ids in seen), "a reader saw a missing or half-built timeline"
    assert set(all_ids(feeds, 1)) == expected[0]
    feeds.rebuild(1, [])
    assert feeds.read(1, None, 10) == TimelinePage(ids=[], next_cursor=None)
    assert client.keys(f"{feeds.timeline_key(1)}:*") == []


def test_pages_return_each_id_once_in_order_across_pages(feeds: FeedManager):
    posts = random.Random(4).sample(range(1, 10_000), 95)
    feeds.rebuild(1, [(post, post % 13) for post in posts])
    pages: list[TimelinePage] = []
    cursor = None
    while True:
        page = feeds.read(1, cursor, 10)
        assert page is not None
        pages.append(page)
        feeds.push(20_000 + len(pages), AUTHOR, [1])  # newer posts must not shift later pages
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [len(page.ids) for page in pages] == [10] * 9 + [5]
    assert [i for page in pages for i in page.ids] == sorted(posts, reverse=True)
    assert [a for page in pages for a in page.author_ids] == [p % 13 for p in sorted(posts, reverse=True)]


def test_exactly_one_page_has_no_next_cursor(feeds: FeedManager):
    feeds.rebuild(1, [(post, AUTHOR) for post in range(1, 11)])
    assert feeds.read(1, None, 10) == TimelinePage(ids=list(range(10, 0, -1)), next_cursor=None,
                                                   author_ids=[AUTHOR] * 10)
    assert feeds.read(1, None, 9).next_cursor == 2  # type: ignore[union-attr]


def test_missing_and_empty_timelines_are_distinguished(feeds: FeedManager, client: CountingRedis):
    assert feeds.read(1, None, 10) is None
    assert feeds.read(1, 5000, 10) is None
    feeds.rebuild(1, [])
    assert feeds.read(1, None, 10) == TimelinePage(ids=[], next_cursor=None)
    feeds.push(5001, AUTHOR, [1])
    feeds.remove(5001, [1])
    assert feeds.read(1, None, 10) == TimelinePage(ids=[], next_cursor=None)
    assert feeds.read(1, 5000, 10) == TimelinePage(ids=[], next_cursor=None)
    client.delete(feeds.timeline_key(1))  # what expiry or eviction does
    assert feeds.read(1, None, 10) is None


def test_64_bit_ids_order_exactly(feeds: FeedManager):
    millisecond = (2**40 - 2) << MS_SHIFT  # near the top of the 63-bit range, where doubles are 2048 apart
    same_ms = [millisecond | (shard << 10) | sequence for shard in (0, 1, 8191) for sequence in (0, 1, 1023)]
    top = [MAX_ID, MAX_ID - 1, MAX_ID - 2, MAX_ID - 1024]
    small = [1, 2**53, 2**53 + 1]
    assert float(MAX_ID) == float(MAX_ID - 1), "as double scores these would tie"
    ids = same_ms + top + small
    feeds.rebuild(1, [])
    for post in random.Random(7).sample(ids, len(ids)):
        feeds.push(post, AUTHOR, [1])
    assert all_ids(feeds, 1, page_size=4) == sorted(set(ids), reverse=True)
    below = feeds.read(1, MAX_ID - 1, 2)
    assert below is not None and below.ids == [MAX_ID - 2, MAX_ID - 1024]
    assert feeds.remove(MAX_ID - 1, [1]) == [1]
    assert all_ids(feeds, 1)[:3] == [MAX_ID, MAX_ID - 2, MAX_ID - 1024]
    with pytest.raises(ValueError):
        feeds.push(MAX_ID + 1, AUTHOR, [1])


def test_inactive_followers_are_skipped_and_rebuilt_on_return(feeds: FeedManager, clock: Clock):
    active, lapsed, never_seen = 1, 2, 3
    clock.now = NOW - ACTIVE_SECONDS - 60
    feeds.mark_active(lapsed)
    clock.now = NOW
    assert feeds.mark_active(active) is True  # first visit: no timeline yet, rebuild on read
    build_empty(feeds, [active, lapsed, never_seen])
    assert feeds.active_followers([never_seen, lapsed, active]) == [active]
    fan_out = feeds.fan_out(5001, AUTHOR, [active, lapsed, never_seen])
    assert (fan_out.recipients, fan_out.inactive, fan_out.large_account) == ([active], 2, False)
    assert all_ids(feeds, lapsed) == []  # skipped although its (stale) timeline still exists
    assert feeds.mark_active(lapsed) is True
    assert feeds.read(lapsed, None, 10) is None, "a returning user's stale timeline must be rebuilt"
    assert feeds.mark_active(active) is False
    assert all_ids(feeds, active) == [5001]


def test_large_accounts_are_merged_at_read_time(feeds: FeedManager, client: CountingRedis):
    follower = 1
    feeds.rebuild(follower, [(post, AUTHOR) for post in range(10, 300, 10)])
    fan_out = feeds.fan_out(295, 42, [follower, *range(2, LARGE_ACCOUNT_FOLLOWERS + 2)])
    assert fan_out.large_account and fan_out.recipients == []
    assert 295 not in all_ids(feeds, follower)
    large = [(post, 42) for post in range(5, 300, 10)]  # what PostgreSQL holds for the large author
    merged: list[int] = []
    cursor = None
    while True:
        page = feeds.read(follower, cursor, 7)
        assert page is not None
        below = [p for p in sorted(large, reverse=True) if cursor is None or p[0] < cursor][:7]
        page = FeedManager.merge_large_accounts(page, below, 7)
        assert len(page.ids) <= 7
        merged.extend(page.ids)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert merged == sorted(set(range(10, 300, 10)) | set(range(5, 300, 10)), reverse=True)


def test_one_round_trip_per_chunk(feeds: FeedManager, client: CountingRedis, clock: Clock):
    followers = list(range(1, 2 * FANOUT_CHUNK + 501))
    pipe = client.pipeline(transaction=False)
    for follower in followers:
        pipe.zadd(feeds.activity_key, {str(follower): NOW})
    pipe.execute()
    build_empty(feeds, followers)
    feeds.push(1, AUTHOR, [1])  # loads the scripts on a server that has not seen them
    feeds.fan_out(2, AUTHOR, [1])
    client.round_trips.clear()
    assert feeds.push(5001, AUTHOR, followers) == followers
    assert client.round_trips == ["EVALSHA"] * 3
    client.round_trips.clear()
    assert feeds.fan_out(5002, AUTHOR, followers).recipients == followers
    assert client.round_trips == ["pipeline of 3"] + ["EVALSHA"] * 3
    client.round_trips.clear()
    assert feeds.remove(5001, followers) == followers
    assert client.round_trips == [f"pipeline of {FANOUT_CHUNK}"] * 2 + ["pipeline of 500"]
    client.round_trips.clear()
    assert feeds.read(followers[-1], None, 10) == TimelinePage(ids=[5002], next_cursor=None, author_ids=[AUTHOR])
    assert client.round_trips == ["ZRANGE"]


def test_many_posts_fan_out_together_each_timeline_getting_only_its_own(feeds: FeedManager, client: CountingRedis,
                                                                       clock: Clock):
    ada, bob, cy, lapsed = 1, 2, 3, 4
    for user in (ada, bob, cy):
        feeds.mark_active(user)
    build_empty(feeds, [ada, bob, cy, lapsed, 7, 8])
    feeds.fan_out(1, 7, [ada])  # loads the script
    client.round_trips.clear()
    posts = [NewPost(5001, 7, [ada, bob, lapsed]), NewPost(5002, 8, [bob, cy]), NewPost(5003, 7, [ada, bob, lapsed])]

    results = feeds.fan_out_many(posts)

    assert client.round_trips == ["pipeline of 1", "EVALSHA"]  # activity of every follower, then every write
    assert [(r.recipients, r.inactive, r.active) for r in results] == [
        ([ada, bob], 1, [ada, bob]), ([bob, cy], 0, [bob, cy]), ([ada, bob], 1, [ada, bob])]
    assert all_ids(feeds, ada) == [5003, 5001, 1]
    assert all_ids(feeds, bob) == [5003, 5002, 5001] and all_ids(feeds, cy) == [5002]
    assert all_ids(feeds, 7) == [5003, 5001, 1] and all_ids(feeds, 8) == [5002]  # authors see their own
    assert all_ids(feeds, lapsed) == []
    again = feeds.fan_out_many(posts)  # a redelivered run gains nothing
    assert [r.recipients for r in again] == [[], [], []] and [r.active for r in again] == [r.active for r in results]
