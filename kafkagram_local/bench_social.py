"""Social-network benchmarks on the seeded Reed98 graph, through the running stack.

    python -m kafkagram_local.bench_social [--only mix push] [--seconds 15] [--rates 200 500 1000 1500]

Starts `kafkagram up` on free ports with its own database (`kafkagram_bench`, recreated) and Redis
database (REDIS_SOCIAL_BENCH_URL, default db 13; the keys of the run are removed at the end), seeds
the full graph with `kafkagram seed`, runs the benchmarks and stops the stack. The load generator
(aiohttp, websockets) runs in this process, on the same cores as the stack.

DeathStarBench mix (`kafkagram_local.bench_mix`): the request mix offered open-loop at fixed rates
through the HTTP API, against the same gateway answering 401, on this stack.

Post -> follower WebSocket: every seeded user holds a WebSocket (`?token=`); posts are composed
through the API at a fixed rate by random authors; each follower's `timeline-updated` push is timed
from the post-create response (and from its request). All followers are active and connected, so
each post should reach every follower.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import redis
import websockets

from emulator import event_loop
from kafkagram.auth import AccessTokens, RateLimiter
from kafkagram.auth.ratelimit import READS_PER_USER, WRITES_PER_USER
from kafkagram.config import Settings
from kafkagram.connections import ConnectionRegistry
from kafkagram.db import connect, transaction
from kafkagram.events import POST_CREATED, TIMELINE_UPDATED
from kafkagram.events.catalog import POST_EVENTS, TIMELINE_EVENTS
from kafkagram.ids import IdGenerator, allocate_shard_id
from kafkagram.storage import variant_key
from kafkagram.timeline import FeedManager
from kafkagram_local.bench import running_up
from kafkagram_local.seed import generate_image, insert_ready_media
from kafkagram_local.services import drop_database, recreate_database

REPO = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "kafkagram_bench"
POSTGRES_SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
REDIS_SOCIAL_BENCH_URL = os.environ.get("REDIS_SOCIAL_BENCH_URL", "redis://127.0.0.1:6379/13")
PAGE = 10  # posts a mix read fetches (kafkagram_local.bench_mix), at an offset of 0 to MAX_OFFSET
MAX_OFFSET = 100
SECONDS = 15.0
MEDIA_POOL_PER_USER = 6
# (posts per second, seconds of posting): the low-load target (10 posts/s) and the high-load one (100 posts/s
# for 30 s, about 3,900 pushes a second on Reed98).
WS_RUNS = ((10.0, 30.0), (100.0, 30.0))
# Posted first and not recorded, as the mix's first seconds: the functions' sandboxes start on first use
# (an API, fan-out or push sandbox takes about a second to import), which put ~1 s cold starts in the
# first run's p99 (measured: p99 3.1 s cold, 74 ms in the same run repeated warm).
WS_WARM_UP = (10.0, 3.0)
WS_DRAIN_S = 120.0
WS_HANDSHAKES_IN_FLIGHT = 50
SHARED_VARIANTS_MEDIA_ID = 1  # the compose pool's media share one set of variants: media/1/<width>.jpg


def _percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# --- The stack ----------------------------------------------------------------------------------------------

@dataclass
class Stack:
    env: dict[str, str]
    ports: dict[str, int]
    database_url: str
    redis_url: str
    user_ids: list[int] = field(default_factory=list)
    usernames: dict[int, str] = field(default_factory=dict)
    up_pid: int = 0  # the `kafkagram up` process (its gateways run in it)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.ports['ws']}/local"



@contextmanager
def running_stack(database: str = BENCH_DATABASE, redis_url: str = REDIS_SOCIAL_BENCH_URL,
                  seed_users: int | None = None) -> Iterator[Stack]:
    """`kafkagram up` on free ports with a fresh database, seeded with `kafkagram seed`."""
    database_url = recreate_database(POSTGRES_SERVER_URL, database)
    stack = Stack({}, {}, database_url, redis_url)
    try:
        with running_up({"DATABASE_URL": database_url, "REDIS_URL": redis_url}) as up:
            stack.env = up["env"]
            stack.up_pid = up["process"].pid
            stack.ports = {name: up["ports"][variable] for name, variable in _PORT_VARIABLES.items()}
            seed_args = [] if seed_users is None else ["--users", str(seed_users)]
            seeded = subprocess.run([sys.executable, "-m", "kafkagram_local.cli", "seed", *seed_args], cwd=REPO,
                                    env=stack.env, capture_output=True, text=True, timeout=600)
            if seeded.returncode:
                raise RuntimeError(f"kafkagram seed failed: {seeded.stdout}{seeded.stderr}")
            conn = connect(database_url)
            try:
                rows = conn.run("SELECT id, username FROM users ORDER BY id")
            finally:
                conn.close()
            stack.user_ids = [int(r[0]) for r in rows]
            stack.usernames = {int(r[0]): str(r[1]) for r in rows}
            yield stack
    finally:
        _forget_redis_keys(redis_url, stack.user_ids)
        drop_database(POSTGRES_SERVER_URL, database)


_PORT_VARIABLES = {"kafka": "KAFKA_PORT", "s3": "S3_PORT", "http": "HTTP_PORT", "ws": "WEBSOCKET_PORT",
                   "status": "STATUS_PORT", "smtp": "SMTP_PORT"}


def _forget_redis_keys(redis_url: str, user_ids: list[int]) -> None:
    if not user_ids:
        return
    client = redis.Redis.from_url(redis_url)
    try:
        feeds, registry, limiter = FeedManager(client), ConnectionRegistry(client), RateLimiter(client)
        pipe = client.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.delete(feeds.timeline_key(user_id), registry.user_key(user_id))
            pipe.zrem(feeds.activity_key, str(user_id))
            pipe.delete(*(limiter.bucket_key(rule, user_id) for rule in (READS_PER_USER, WRITES_PER_USER)))
        pipe.execute()
    finally:
        client.close()


def _s3(stack: Stack) -> Any:
    """A client of the stack's S3 (the emulator `up` started, with its local-only credentials)."""
    import boto3

    from kafkagram_local.services import LOCAL_AWS_ACCESS_KEY_ID, LOCAL_AWS_SECRET_ACCESS_KEY

    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.ports['s3']}", region_name="us-east-1",
                        aws_access_key_id=stack.env.get("AWS_ACCESS_KEY_ID", LOCAL_AWS_ACCESS_KEY_ID),
                        aws_secret_access_key=stack.env.get("AWS_SECRET_ACCESS_KEY", LOCAL_AWS_SECRET_ACCESS_KEY))


def access_tokens(stack: Stack) -> dict[int, str]:
    issuer = AccessTokens(Settings().auth_token_secret)
    return {user_id: issuer.issue(user_id) for user_id in stack.user_ids}


# --- Compose pool ---------------------------------------------------------------------------------------------

def make_media_pool(stack: Stack, per_user: int = MEDIA_POOL_PER_USER) -> dict[int, list[int]]:
    """Ready (processed) post media for each user, not yet in a post: what compose attaches."""
    from kafkagram.media import process_image

    processed = process_image(generate_image(98))
    s3 = _s3(stack)
    variants = []
    for v in processed.variants:
        key = variant_key(SHARED_VARIANTS_MEDIA_ID, v.width)
        s3.put_object(Bucket=stack.env.get("MEDIA_BUCKET", "kafkagram-media"), Key=key, Body=v.data,
                      ContentType=v.content_type)
        variants.append({"width": v.width, "height": v.height, "object_key": key, "content_type": v.content_type,
                         "size_bytes": len(v.data)})
    details = {"width": processed.width, "height": processed.height, "variants": variants,
               "blurhash": processed.blurhash, "size_bytes": sum(len(v.data) for v in processed.variants)}
    conn = connect(stack.database_url)
    try:
        ids = IdGenerator(allocate_shard_id(conn))
        pool = {user_id: [ids.next_id() for _ in range(per_user)] for user_id in stack.user_ids}
        with transaction(conn):
            insert_ready_media(conn, [(media_id, user_id, details) for user_id, media in pool.items()
                                      for media_id in media])
    finally:
        conn.close()
    return pool


# --- DeathStarBench mix ----------------------------------------------------------------------------------------

@dataclass
class Plan:
    """What the clients need, prepared before the clock starts."""

    tokens: dict[int, str]
    home_ids: dict[int, list[int]]  # newest first, at most MAX_OFFSET + PAGE
    user_post_ids: dict[int, list[int]]
    media_pool: dict[int, list[int]]
    rng: random.Random = field(default_factory=lambda: random.Random(2015))


def prepare_plan(stack: Stack, media_pool: dict[int, list[int]]) -> Plan:
    client = redis.Redis.from_url(stack.redis_url)
    try:
        feeds = FeedManager(client)
        home: dict[int, list[int]] = {}
        for user_id in stack.user_ids:
            page = feeds.read(user_id, limit=MAX_OFFSET + PAGE)
            home[user_id] = page.ids if page else []
    finally:
        client.close()
    conn = connect(stack.database_url)
    try:
        posts: dict[int, list[int]] = defaultdict(list)
        for post_id, author_id in conn.run("SELECT id, author_id FROM posts WHERE status = 'published' "
                                           "ORDER BY id DESC"):
            posts[int(author_id)].append(int(post_id))
    finally:
        conn.close()
    return Plan(access_tokens(stack), home, dict(posts), {k: list(v) for k, v in media_pool.items()})


# --- Post -> follower WebSocket latency -------------------------------------------------------------------------

class KafkaTap:
    """Reads post-events and timeline-events from their end while a run lasts, to split each post's path
    into hops: when an event was made (`occurred_at`, in the transaction that commits it) and when the
    relay produced it (the Kafka record's timestamp, set by the producer)."""

    def __init__(self, bootstrap: str) -> None:
        from confluent_kafka import OFFSET_END, Consumer, TopicPartition

        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-tap-{os.getpid()}",
                                   "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        topics = self._consumer.list_topics(timeout=10).topics
        self._consumer.assign([TopicPartition(topic, partition, OFFSET_END) for topic in (POST_EVENTS, TIMELINE_EVENTS)
                               for partition in topics[topic].partitions])
        self.created: dict[int, tuple[float, float]] = {}  # post id -> (made ms, produced ms)
        self.updates: dict[str, tuple[list[int], float, float]] = {}  # event id -> (post ids, made, produced)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True, name="bench-kafka-tap")
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            for message in self._consumer.consume(num_messages=500, timeout=0.1):
                if message.error() or message.value() is None:
                    continue
                with suppress(ValueError, KeyError, TypeError):
                    event = json.loads(message.value() or b"{}")
                    made = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).timestamp() * 1e3
                    produced = float(message.timestamp()[1])
                    if event["type"] == POST_CREATED:
                        self.created[int(event["data"]["post_id"])] = (made, produced)
                    elif event["type"] == TIMELINE_UPDATED:
                        post_ids = [int(p) for p in event["data"]["post_ids"]]
                        self.updates[event["id"]] = (post_ids, made, produced)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._consumer.close()


def hop_rows(tap: KafkaTap, frames: list[tuple[str, int, float]], timings: dict[int, PostTiming],
             functions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """p50/p99 of each hop from a post's commit to its followers' frames (ms), from the tap, the frames
    (event id, post id, received ms) and the runtime's figures of the two functions."""
    hops: dict[str, list[float]] = defaultdict(list)
    for post_id, timing in timings.items():
        if post_id in tap.created:
            made, produced = tap.created[post_id]
            hops["post-created: made in the commit -> relay produced"].append(produced - made)
            hops["create response -> relay produced post-created"].append(produced - timing.responded_ms)
    first_update: dict[int, float] = {}
    for post_ids, made, produced in tap.updates.values():
        hops["timeline-updated: made in the commit -> relay produced"].append(produced - made)
        for post_id in post_ids:
            if post_id in tap.created:
                first_update[post_id] = min(first_update.get(post_id, made), made)
    for post_id, made in first_update.items():
        hops["post-created produced -> fan-out made timeline-updated"].append(made - tap.created[post_id][1])
    for event_id, _post_id, received in frames:
        if event_id in tap.updates:
            hops["timeline-updated produced -> frame at the client"].append(received - tap.updates[event_id][2])
    rows = [{"hop": name, "n": len(values), "p50 ms": _percentile(values, 0.5), "p99 ms": _percentile(values, 0.99)}
            for name, values in hops.items()]
    for function, figures in functions.items():
        for label, key in (("produce -> poller fetch", "fetch_lag_ms"), ("queue -> invoke", "queue_ms"),
                           ("handler duration", "duration_ms")):
            if figures.get(f"{key}_p50") is not None:
                rows.append({"hop": f"{function}: {label}", "n": figures.get("invocations", 0),
                             "p50 ms": figures[f"{key}_p50"], "p99 ms": figures.get(f"{key}_p99")})
    return rows


@dataclass
class PostTiming:
    author_id: int
    intended: float  # when the open-loop schedule meant to send it (perf_counter)
    requested: float
    responded: float = 0.0
    responded_ms: float = 0.0  # the same moment on the wall clock, to compare with Kafka timestamps
    followers: int = 0


async def _websocket_latency(stack: Stack, plan: Plan, rate: float, posts: int, drain_s: float) -> dict[str, Any]:
    from emulator.status import fetch_status

    followers = _followers(stack)
    received: dict[int, list[tuple[int, float]]] = defaultdict(list)  # post id -> (user, when)
    frames: list[tuple[str, int, float]] = []  # (event id, post id, wall-clock ms)
    sockets: list[Any] = []
    gate = asyncio.Semaphore(WS_HANDSHAKES_IN_FLIGHT)
    connect_started = time.perf_counter()

    async def open_socket(user_id: int) -> Any:
        async with gate:
            return await websockets.connect(f"{stack.ws}?token={plan.tokens[user_id]}", open_timeout=60,
                                            max_queue=None, ping_interval=None)

    async def listen(user_id: int, socket: Any) -> None:
        with suppress(websockets.ConnectionClosed):
            async for message in socket:
                now, wall_ms = time.perf_counter(), time.time() * 1e3
                event = json.loads(message)
                if event.get("type") == TIMELINE_UPDATED and event["data"].get("action") == "added":
                    for post_id in event["data"]["post_ids"]:
                        received[int(post_id)].append((user_id, now))
                        frames.append((event["id"], int(post_id), wall_ms))

    sockets = await asyncio.gather(*(open_socket(u) for u in stack.user_ids))
    connect_seconds = time.perf_counter() - connect_started
    listeners = [asyncio.create_task(listen(u, s)) for u, s in zip(stack.user_ids, sockets, strict=True)]
    await _wait_registered(stack)

    tap = KafkaTap(f"127.0.0.1:{stack.ports['kafka']}")
    before = fetch_status("127.0.0.1", stack.ports["status"])
    timings: dict[int, PostTiming] = {}
    authors = [u for u in stack.user_ids if plan.media_pool.get(u) and followers.get(u)]
    rng = random.Random(100)
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def compose(author: int, intended: float) -> None:
            media_id = plan.media_pool[author].pop()
            timing = PostTiming(author, intended, time.perf_counter(), followers=len(followers[author]))
            headers = {"Authorization": f"Bearer {plan.tokens[author]}"}
            async with session.post(f"{stack.http}/api/posts", headers=headers,
                                    json={"caption": "live #bench", "media_ids": [str(media_id)]}) as response:
                body = await response.json()
                timing.responded, timing.responded_ms = time.perf_counter(), time.time() * 1e3
            if response.status == 201:
                timings[int(body["id"])] = timing

        started = time.perf_counter()
        tasks = []
        for i in range(posts):  # open loop: each post at its time, whether or not the earlier ones are done
            intended = started + i / rate
            await asyncio.sleep(max(0.0, intended - time.perf_counter()))
            candidates = [a for a in authors if plan.media_pool[a]]
            tasks.append(asyncio.create_task(compose(rng.choice(candidates), intended)))
        await asyncio.gather(*tasks)
        sent_seconds = time.perf_counter() - started
    expected = sum(t.followers for t in timings.values())
    deadline = time.perf_counter() + drain_s
    while time.perf_counter() < deadline and sum(len(received[p]) for p in timings) < expected:
        await asyncio.sleep(0.05)
    drained_seconds = time.perf_counter() - started
    after = fetch_status("127.0.0.1", stack.ports["status"])
    tap.close()
    for socket in sockets:
        await socket.close()
    await asyncio.gather(*listeners, return_exceptions=True)

    from_response = [when - timings[p].responded for p in timings for _, when in received[p]]
    from_request = [when - timings[p].intended for p in timings for _, when in received[p]]
    mappings = {"fan-out": "FanOutFunction.PostEvents", "push": "PushFunction.TimelineEvents"}
    create_ms = [(t.responded - t.requested) * 1e3 for t in timings.values()]
    delivered = sum(len(received[p]) for p in timings)
    return {"connections": len(sockets), "connect_seconds": connect_seconds, "posts": len(timings),
            "posts_per_second": len(timings) / sent_seconds, "pushes_expected": expected, "pushes": delivered,
            "pushes_per_second": delivered / drained_seconds,
            "from_response_p50_ms": _percentile(from_response, 0.5) * 1e3,
            "from_response_p99_ms": _percentile(from_response, 0.99) * 1e3,
            "from_request_p50_ms": _percentile(from_request, 0.5) * 1e3,
            "from_request_p99_ms": _percentile(from_request, 0.99) * 1e3,
            "create_p50_ms": _percentile(create_ms, 0.5), "create_p99_ms": _percentile(create_ms, 0.99),
            "functions": {name: _function_figures(before.get(mapping, {}), after.get(mapping, {}), drained_seconds)
                          for name, mapping in mappings.items()},
            "hops": hop_rows(tap, frames, timings, {name: after.get(m, {}) for name, m in mappings.items()})}


def _function_figures(before: dict[str, Any], after: dict[str, Any], seconds: float) -> str:
    """Records/s of one event source mapping over the run, and its invoke p50/p99 (the runtime's figures)."""
    records = int(after.get("records") or 0) - int(before.get("records") or 0)
    invocations = int(after.get("invocations") or 0) - int(before.get("invocations") or 0)
    p50, p99 = after.get("duration_ms_p50"), after.get("duration_ms_p99")
    return (f"{records / seconds:.0f} rec/s in {invocations} calls, "
            f"{'-' if p50 is None else f'{p50:.0f}'}/{'-' if p99 is None else f'{p99:.0f}'} ms")


def _followers(stack: Stack) -> dict[int, list[int]]:
    conn = connect(stack.database_url)
    try:
        result: dict[int, list[int]] = defaultdict(list)
        for follower, followee in conn.run("SELECT follower_id, followee_id FROM follows"):
            result[int(followee)].append(int(follower))
        return dict(result)
    finally:
        conn.close()


async def _wait_registered(stack: Stack, timeout: float = 60.0) -> None:
    """Until the $connect function registered every user's connection in Redis."""
    client = redis.Redis.from_url(stack.redis_url)
    try:
        registry = ConnectionRegistry(client)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(registry.connected(stack.user_ids)) == len(stack.user_ids):
                return
            await asyncio.sleep(0.1)
        raise TimeoutError("not every WebSocket connection was registered")
    finally:
        client.close()


def websocket_rows(stack: Stack, plan: Plan, runs: tuple[tuple[float, float], ...] = WS_RUNS,
                   drain_s: float = WS_DRAIN_S) -> tuple[list[dict[str, Any]], dict[float, list[dict[str, Any]]]]:
    """One row per run, and per run its latency budget (hop rows); a warm-up run first, not recorded."""
    rows, budgets = [], {}
    warm_rate, warm_seconds = WS_WARM_UP
    event_loop.run(_websocket_latency(stack, plan, warm_rate, max(1, round(warm_rate * warm_seconds)), drain_s))
    for rate, seconds in runs:
        result = event_loop.run(_websocket_latency(stack, plan, rate, max(1, round(rate * seconds)), drain_s))
        budgets[rate] = result["hops"]
        rows.append({
            "target posts/s": rate, "achieved posts/s": result["posts_per_second"], "posts": result["posts"],
            "connections": result["connections"], "pushes": f"{result['pushes']:,}/{result['pushes_expected']:,}",
            "pushes/s": result["pushes_per_second"],
            "p50 ms (from response)": result["from_response_p50_ms"],
            "p99 ms (from response)": result["from_response_p99_ms"],
            "p50/p99 ms (from intended send)":
                f"{result['from_request_p50_ms']:.0f}/{result['from_request_p99_ms']:.0f}",
            "create p50/p99 ms": f"{result['create_p50_ms']:.1f}/{result['create_p99_ms']:.1f}",
            "fan-out function": result["functions"]["fan-out"], "push function": result["functions"]["push"]})
    return rows, budgets


# --- Entry points ---------------------------------------------------------------------------------------------

def run_social_bench(only: set[str], seconds: float = SECONDS, rates: tuple[float, ...] | None = None,
                     ws_runs: tuple[tuple[float, float], ...] = WS_RUNS,
                     seed_users: int | None = None, drain_s: float = WS_DRAIN_S,
                     database: str = BENCH_DATABASE,
                     baseline_rates: tuple[float, ...] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Tables keyed "mix..." (kafkagram_local.bench_mix: `rates` and `baseline_rates` in requests per
    second, their defaults when None) and "push..." (those in `only`; both when empty)."""
    from kafkagram_local import bench_mix

    wanted = only or {"mix", "push"}
    mix_rates, base_rates = rates or bench_mix.RATES, baseline_rates or bench_mix.BASELINE_RATES
    tables: dict[str, list[dict[str, Any]]] = {}
    with running_stack(database, seed_users=seed_users) as stack:
        composes = (bench_mix.mix_composes(mix_rates, seconds) if "mix" in wanted else 0) + (
            sum(rate * secs for rate, secs in (*ws_runs, WS_WARM_UP)) if "push" in wanted else 0)
        per_user = max(MEDIA_POOL_PER_USER, int(composes / max(1, len(stack.user_ids))) + 2)
        plan = prepare_plan(stack, make_media_pool(stack, per_user))
        if "mix" in wanted:
            tables.update(bench_mix.mix_tables(stack, plan, mix_rates, base_rates, seconds))
        if "push" in wanted:
            tables["push"], budgets = websocket_rows(stack, plan, ws_runs, drain_s)
            for rate, hops in budgets.items():
                tables[f"push budget at {rate:g} posts/s"] = hops
    return tables


def print_social_tables(tables: dict[str, list[dict[str, Any]]]) -> None:
    from kafkagram_local.bench import _print_table
    from kafkagram_local.bench_mix import print_mix_tables

    print_mix_tables(tables)
    if "push" in tables:
        _print_table("Post -> follower WebSocket push on Reed98, every user connected", tables["push"])
    for name, rows in tables.items():
        if name.startswith("push budget"):
            _print_table(f"Where the time goes ({name[len('push budget '):]}): p50/p99 of each hop, ms", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=[], choices=["mix", "push"])
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--rates", type=float, nargs="*", default=None, help="the mix's, requests per second")
    parser.add_argument("--baseline-rates", type=float, nargs="*", default=None, help="the 401 baseline's")
    parser.add_argument("--ws-runs", nargs="*", default=[f"{r:g}:{s:g}" for r, s in WS_RUNS],
                        metavar="POSTS_PER_S:SECONDS")
    args = parser.parse_args()
    runs = tuple((float(run.split(":")[0]), float(run.split(":")[1])) for run in args.ws_runs)
    print_social_tables(run_social_bench(set(args.only), args.seconds, tuple(args.rates or ()) or None, runs,
                                         baseline_rates=tuple(args.baseline_rates or ()) or None))


if __name__ == "__main__":
    main()
