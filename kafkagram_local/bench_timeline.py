"""Home-timeline benchmark on the Reed98 graph (962 users, each edge followed both ways).

    python -m kafkagram_local.bench_timeline

Fan-out: posts from random authors written into their followers' timelines, against raw baselines
measured in the same run. Per post: FeedManager.push and fan_out against one pipeline per post of
plain `ZADD key NX 0 member` of the same (key, member) pairs. Per batch (what the handler gets: a run
of BATCH_POSTS post-created records): FeedManager.fan_out_many against the ceiling, ONE pipeline
carrying every ZADD of the batch's posts. Timelines start full (MAX_ITEMS posts each, every follower
active), the steady state where each insert also trims. Blocks of posts alternate between the
variants so that drift on a shared machine hits all alike. Reads: `read(limit=10)` of a first page
and of a page at a cursor 0-100 posts down (DeathStarBench's offsets), against the bare ZRANGE.
Uses Redis db 14 under a unique key prefix, removed at the end; bounded by TIME_BUDGET_S.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import redis

from kafkagram.timeline import FANOUT_CHUNK, MAX_ITEMS, FeedManager, NewPost, member
from kafkagram_local.seed import graph_dir

GRAPH = graph_dir() / "socfb-Reed98.edges"  # the packaged copy, so a clean clone (or an installed wheel) has it
REDIS_BENCH_URL = os.environ.get("REDIS_BENCH_URL", "redis://127.0.0.1:6379/14")
TIME_BUDGET_S = 20.0
FANOUT_SHARE = 0.6  # of the budget left after set-up; the rest goes to reads
MAX_POSTS = 5_000  # per fan-out variant
BLOCK = 100  # posts per variant before switching to the other
READS = 2_000  # per read variant
READ_PAGE = 10
MAX_OFFSET = 100
FAN_OUT_IDS = 1 << 40  # offset of the fan_out lane's post ids (about 2 minutes later in id time)
BATCH_IDS = 2 << 40  # likewise for the batch lanes
BATCH_POSTS = 100  # the post-created mapping's BatchSize
MS_SHIFT = 23  # Instagram-style ids: milliseconds since the epoch, then 13 bits shard, 10 bits sequence
ID_EPOCH_MS = 1_293_840_000_000  # 2011-01-01


def load_followers(path: Path = GRAPH) -> dict[int, list[int]]:
    """Each undirected edge `a b` as two follows; returns user -> followers."""
    followers: dict[int, list[int]] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith(("%", "#")):
            a, b = (int(x) for x in line.split()[:2])
            followers.setdefault(a, []).append(b)
            followers.setdefault(b, []).append(a)
    return followers


def _first_id() -> int:
    """A realistic 63-bit id (well above 2^53); the benchmark counts up from it."""
    return (int(time.time() * 1000) - ID_EPOCH_MS) << MS_SHIFT


def _percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Lane:
    """One fan-out variant: its write function, inserts done, time spent and per-post latencies."""

    def __init__(self, name: str, write: Callable[[int, int, list[int]], int]) -> None:
        self.name, self.write = name, write
        self.inserts, self.seconds = 0, 0.0
        self.latencies: list[float] = []

    def run(self, post_id: int, author: int, followers: list[int]) -> None:
        started = time.perf_counter()
        self.inserts += self.write(post_id, author, followers)
        elapsed = time.perf_counter() - started
        self.seconds += elapsed
        self.latencies.append(elapsed)

    def row(self, baseline: Lane) -> dict[str, Any]:
        rate, base = self.inserts / self.seconds, baseline.inserts / baseline.seconds
        return {"operation": f"fan-out: {self.name}", "count": len(self.latencies), "per second": rate,
                "vs raw": rate / base, "p50 ms": _percentile(self.latencies, 0.5) * 1e3,
                "p99 ms": _percentile(self.latencies, 0.99) * 1e3}


def _raw_zadd(client: redis.Redis, prefix: str) -> Callable[[int, int, list[int]], int]:
    def write(post_id: int, author: int, followers: list[int]) -> int:
        entry, added = member(post_id, author), 0
        for start in range(0, len(followers), FANOUT_CHUNK):
            pipe = client.pipeline(transaction=False)
            for follower in followers[start:start + FANOUT_CHUNK]:
                pipe.execute_command("ZADD", f"{prefix}timeline:home:{follower}", "NX", 0, entry)
            added += sum(pipe.execute())
        return added
    return write


def _fill(feeds: FeedManager, client: redis.Redis, users: list[int], raw_prefix: str, first_id: int) -> None:
    """Every timeline full and every user active: one timeline built, then copied server-side."""
    old_posts = [(first_id - (MAX_ITEMS - i) * 1024, i % len(users)) for i in range(MAX_ITEMS)]
    template = f"{raw_prefix}template"
    feeds.rebuild(0, old_posts)
    client.rename(feeds.timeline_key(0), template)
    pipe = client.pipeline(transaction=False)
    for user in users:
        pipe.zadd(feeds.activity_key, {str(user): time.time()})
        pipe.copy(template, feeds.timeline_key(user), replace=True)
        pipe.copy(template, f"{raw_prefix}timeline:home:{user}", replace=True)
    pipe.execute()


def _fan_out_rows(feeds: FeedManager, client: redis.Redis, followers: dict[int, list[int]],
                  raw_prefix: str, first_id: int, deadline: float) -> list[dict[str, Any]]:
    raw = Lane("raw pipelined ZADD (baseline)", _raw_zadd(client, raw_prefix))
    push = Lane("FeedManager.push", lambda p, a, f: len(feeds.push(p, a, f)))
    # What the post-created handler calls: push plus the activity lookup (one more round trip).
    # Its posts are other ids (FAN_OUT_IDS above) into the same timelines, so the pairs differ.
    fan_out = Lane("FeedManager.fan_out (push + activity check)",
                   lambda p, a, f: len(feeds.fan_out(p + FAN_OUT_IDS, a, f).recipients))
    rng = random.Random(98)
    authors = list(followers)
    post_id = first_id
    per_post_deadline = time.perf_counter() + (deadline - time.perf_counter()) / 2  # the rest for batches
    while len(push.latencies) < MAX_POSTS and time.perf_counter() < per_post_deadline:
        block = [(post_id + i, rng.choice(authors)) for i in range(BLOCK)]
        post_id += BLOCK
        turn = len(push.latencies) // BLOCK % 3
        for lane in ((raw, push, fan_out) * 2)[turn:turn + 3]:  # rotate the order block by block
            for pid, author in block:
                lane.run(pid, author, followers[author])
    rows = [raw.row(raw), push.row(raw), fan_out.row(raw)]
    return rows + _batch_rows(feeds, client, followers, raw_prefix, post_id + BATCH_IDS, deadline, rng)


def _batch_rows(feeds: FeedManager, client: redis.Redis, followers: dict[int, list[int]], raw_prefix: str,
                first_id: int, deadline: float, rng: random.Random) -> list[dict[str, Any]]:
    """Batches of BATCH_POSTS posts: fan_out_many against one pipeline of all their ZADDs."""

    def raw_batch(posts: list[tuple[int, int]]) -> int:
        by_timeline: dict[int, list[Any]] = {}
        for post_id, author in posts:
            entry = member(post_id, author)
            for follower in followers[author]:
                by_timeline.setdefault(follower, []).extend((0, entry))
        pipe = client.pipeline(transaction=False)
        for follower, scored in by_timeline.items():  # one ZADD per timeline, with all its posts
            pipe.execute_command("ZADD", f"{raw_prefix}timeline:home:{follower}", "NX", *scored)
        return sum(pipe.execute())

    def ours(posts: list[tuple[int, int]]) -> int:
        done = feeds.fan_out_many([NewPost(p + BATCH_IDS, a, followers[a]) for p, a in posts])
        return sum(len(result.recipients) for result in done)

    lanes = {"raw: one pipeline, one ZADD per timeline (ceiling)": raw_batch,
             f"FeedManager.fan_out_many ({BATCH_POSTS} posts)": ours}
    measured: dict[str, list[tuple[float, int]]] = {name: [] for name in lanes}
    authors = list(followers)
    post_id = first_id
    while len(measured[next(iter(lanes))]) < MAX_POSTS // BATCH_POSTS and time.perf_counter() < deadline:
        batch = [(post_id + i, rng.choice(authors)) for i in range(BATCH_POSTS)]
        post_id += BATCH_POSTS
        for name in (lanes if post_id // BATCH_POSTS % 2 else reversed(list(lanes))):
            started = time.perf_counter()
            inserts = lanes[name](batch)
            measured[name].append((time.perf_counter() - started, inserts))
    ceiling = _rate(measured[next(iter(lanes))])
    return [{"operation": f"fan-out batch: {name}", "count": len(samples) * BATCH_POSTS,
             "per second": _rate(samples), "vs raw": _rate(samples) / ceiling,
             "p50 ms": _percentile([t for t, _ in samples], 0.5) * 1e3,
             "p99 ms": _percentile([t for t, _ in samples], 0.99) * 1e3} for name, samples in measured.items()]


def _rate(samples: list[tuple[float, int]]) -> float:
    """Inserts per second over the samples (seconds, inserts)."""
    return sum(n for _, n in samples) / sum(t for t, _ in samples)


Query = tuple[int, int | None]  # (user, max_id)
Reader = Callable[[int, int | None], object]


def _timed_pair(ours: Reader, bare: Reader, queries: list[Query]) -> tuple[list[float], list[float]]:
    """Latencies of both readers on the same queries, interleaved and in alternating order."""
    samples: dict[Reader, list[float]] = {ours: [], bare: []}
    for i, (user, cursor) in enumerate(queries):
        for reader in (ours, bare) if i % 2 else (bare, ours):
            started = time.perf_counter()
            reader(user, cursor)
            samples[reader].append(time.perf_counter() - started)
    return samples[ours], samples[bare]


def _read_queries(feeds: FeedManager, users: list[int]) -> list[Query]:
    """Random users, each with the cursor that starts a page 0-100 posts down (DeathStarBench)."""
    rng = random.Random(10)
    queries: list[Query] = []
    for _ in range(READS):
        user = rng.choice(users)
        page = feeds.read(user, None, rng.randint(1, MAX_OFFSET + 1))
        queries.append((user, page.ids[-1] if page and page.ids else None))
    return queries


def _read_rows(feeds: FeedManager, client: redis.Redis, users: list[int], deadline: float) -> list[dict[str, Any]]:
    queries = _read_queries(feeds, users)

    def bare(user: int, cursor: int | None) -> object:
        upper = b"+" if cursor is None else b"(%019d" % cursor
        return client.zrange(feeds.timeline_key(user), upper, "-", desc=True, bylex=True, offset=0,
                             num=READ_PAGE + 1)

    rows = []
    for name, with_cursor in (("first page", False), ("at offset 0-100", True)):
        batch = [(u, c if with_cursor else None) for u, c in queries]
        if time.perf_counter() > deadline:
            batch = batch[:READS // 10]
        samples, base = _timed_pair(lambda u, c: feeds.read(u, c, READ_PAGE), bare, batch)
        rows.append({"operation": f"read(limit={READ_PAGE}) {name}", "count": len(samples),
                     "per second": len(samples) / sum(samples), "vs raw": sum(base) / sum(samples),
                     "p50 ms": _percentile(samples, 0.5) * 1e3, "p99 ms": _percentile(samples, 0.99) * 1e3})
    return rows


def _clean(client: redis.Redis, prefix: str) -> None:
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{prefix}*", count=5_000):
        batch.append(key)
        if len(batch) >= 5_000:
            client.unlink(*batch)
            batch.clear()
    if batch:
        client.unlink(*batch)


def run_timeline_bench(graph: Path = GRAPH, url: str = REDIS_BENCH_URL) -> list[dict[str, Any]]:
    started = time.perf_counter()
    followers = load_followers(graph)
    users = sorted(followers)
    client = redis.Redis.from_url(url)
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    feeds = FeedManager(client, prefix=f"{prefix}fm:")
    first_id = _first_id()
    try:
        _fill(feeds, client, users, f"{prefix}raw:", first_id)
        left = TIME_BUDGET_S - (time.perf_counter() - started)
        fan_out_deadline = time.perf_counter() + left * FANOUT_SHARE
        rows = _fan_out_rows(feeds, client, followers, f"{prefix}raw:", first_id, fan_out_deadline)
        rows += _read_rows(feeds, client, users, started + TIME_BUDGET_S)
    finally:
        _clean(client, prefix)
        client.close()
    return rows


def main() -> None:
    rows = run_timeline_bench()
    columns = list(rows[0])
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join(f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row.values()))


if __name__ == "__main__":
    main()
