"""Large accounts: what a post by an account with LARGE_FOLLOWERS followers costs, and what it costs
its followers' reads.

    python -m kafkagram_local.bench_large

A bench-only database (`kafkagram_bench_large`, recreated and dropped) holds a large account with
LARGE_FOLLOWERS followers (bulk rows), NORMAL_AUTHORS ordinary accounts with a few posts each, and two
readers who follow every ordinary author: one also follows the large account. Redis db 12 under a
unique prefix (removed at the end).

- Fan-out: the post-created flow (`kafkagram.flows.fan_out.fan_out_posts`, what the handler runs) for
  a post of the large account against one of an ordinary author: time, and timelines written. A large
  account's followers are not written (nor read): they merge its posts at read time.
- Reads: the first home-timeline page (`kafkagram.feed.HomeTimeline.page`, what GET /api/timeline runs,
  warm post cache) of the reader who follows the large account, against the one who does not. Target:
  at most 2x.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import redis

from kafkagram.connections import ConnectionRegistry
from kafkagram.db import Connection, Database, connect, transaction
from kafkagram.events import Event
from kafkagram.feed import HomeTimeline
from kafkagram.flows.fan_out import fan_out_posts
from kafkagram.ids import IdGenerator, allocate_shard_id
from kafkagram.migrations import migrate
from kafkagram.post_cache import PostCache
from kafkagram.store import follows, posts
from kafkagram.timeline import FeedManager
from kafkagram_local.seed import insert_ready_media
from kafkagram_local.services import drop_database, recreate_database

POSTGRES_SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
REDIS_LARGE_BENCH_URL = os.environ.get("REDIS_LARGE_BENCH_URL", "redis://127.0.0.1:6379/12")
DATABASE = "kafkagram_bench_large"
LARGE_FOLLOWERS = 50_000
NORMAL_AUTHORS = 20
POSTS_PER_AUTHOR = 5
READS = 300
PAGE = 10
MEDIA = {"width": 640, "height": 480, "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj", "size_bytes": 1000,
         "variants": [{"width": 640, "height": 480, "object_key": "media/1/640.jpg", "content_type": "image/jpeg",
                       "size_bytes": 1000}]}


def _user(conn: Connection, name: str) -> int:
    return int(conn.run("INSERT INTO users (username, email, password_hash) VALUES (:n, :e, 'bench') RETURNING id",
                        n=name, e=f"{name}@bench.invalid")[0][0])


def _post(conn: Connection, ids: IdGenerator, author: int) -> int:
    media_id = ids.next_id()
    insert_ready_media(conn, [(media_id, author, MEDIA)])
    with transaction(conn):
        return posts.create_post(conn, author, "bench", [media_id]).id


def _created_event(conn: Connection, post_id: int) -> Event:
    [[payload]] = conn.run("SELECT payload FROM outbox WHERE payload->>'type' = 'post-created' "
                           "AND payload->'data'->>'post_id' = :id", id=str(post_id))
    return Event.model_validate(payload)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _timed(call: Callable[[], Any], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1e3)
    return samples


def run_large_bench(followers: int = LARGE_FOLLOWERS, reads: int = READS) -> list[dict[str, Any]]:
    url = recreate_database(POSTGRES_SERVER_URL, DATABASE)
    client = redis.Redis.from_url(REDIS_LARGE_BENCH_URL)
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    feeds, cache = FeedManager(client, prefix=prefix), PostCache(client, prefix=prefix)
    registry, database = ConnectionRegistry(client, prefix=prefix), Database(url)
    conn = connect(url)
    try:
        migrate(conn)
        ids = IdGenerator(allocate_shard_id(conn))
        large, reader, plain_reader = _user(conn, "large"), _user(conn, "reader"), _user(conn, "plain.reader")
        conn.run("INSERT INTO users (username, email, password_hash) SELECT 'fan' || g, "
                 "'fan' || g || '@bench.invalid', 'bench' FROM generate_series(1, :n) g", n=followers)
        conn.run("INSERT INTO follows (follower_id, followee_id) SELECT id, :large FROM users "
                 "WHERE username LIKE 'fan%'", large=large)
        conn.run("UPDATE users SET followers_count = :n WHERE id = :large", n=followers, large=large)
        authors = [_user(conn, f"author{i}") for i in range(NORMAL_AUTHORS)]
        for follower in (reader, plain_reader):
            for author in authors:
                with transaction(conn):
                    follows.follow(conn, follower, author)
        with transaction(conn):
            follows.follow(conn, reader, large)
        for author in authors:
            for _ in range(POSTS_PER_AUTHOR):
                _post(conn, ids, author)
        for user in (reader, plain_reader, *authors):
            feeds.mark_active(user)
            feeds.regenerate(conn, user)
        warm_up, large_post, normal_post = (_post(conn, ids, author) for author in (authors[1], large, authors[0]))
        fan_out_posts(database, feeds, registry, [_created_event(conn, warm_up)])  # connect, load scripts

        rows = []
        for name, post_id, audience in (("a large account's post", large_post, followers),
                                        ("an ordinary author's post", normal_post, 2)):
            event = _created_event(conn, post_id)
            started = time.perf_counter()
            [outcome] = fan_out_posts(database, feeds, registry, [event])
            rows.append({"operation": f"fan-out of {name}", "followers": audience,
                         "timelines written": outcome.written, "ms": (time.perf_counter() - started) * 1e3,
                         "p50 ms": "-", "p99 ms": "-", "vs plain": "-"})
        home = HomeTimeline(feeds, cache)  # the API's reader: one Redis round trip, one statement
        page = home.page(conn, reader, None, PAGE).page
        assert large_post in [post.id for post in page.items], "the large account's post is merged at read time"
        timings = {}
        for name, user in (("plain", plain_reader), ("large", reader)):
            home.page(conn, user, None, PAGE)  # warm the post cache
            timings[name] = _timed(partial(home.page, conn, user, None, PAGE), reads)
        for name, label in (("plain", "first page, following no large account"),
                            ("large", "first page, following the large account")):
            rows.append({"operation": label, "followers": "-", "timelines written": "-", "ms": "-",
                         "p50 ms": _percentile(timings[name], 0.5), "p99 ms": _percentile(timings[name], 0.99),
                         "vs plain": _percentile(timings[name], 0.5) / _percentile(timings["plain"], 0.5)})
        return rows
    finally:
        conn.close()
        database.close()
        keys = list(client.scan_iter(match=f"{prefix}*", count=5_000))
        if keys:
            client.unlink(*keys)
        client.close()
        drop_database(POSTGRES_SERVER_URL, DATABASE)


def main() -> None:
    from kafkagram_local.bench import _print_table

    _print_table(f"Large accounts: a post by an account with {LARGE_FOLLOWERS:,} followers", run_large_bench())


if __name__ == "__main__":
    main()
