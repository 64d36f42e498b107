"""The DeathStarBench request mix on the seeded Reed98 graph, offered OPEN-LOOP at fixed rates through
the HTTP API, against the same gateway and function answering 401 in the same run; and the API
function's in-process cost of a home-timeline page against a trivial handler.

    python -m kafkagram_local.bench_mix [--rates 200 500 1000 1500] [--baseline-rates 1000 2000 3000 4000]

Open loop (emulator.http.loadgen, as wrk2): at each rate, requests leave on a fixed schedule whatever
the server's pace, and each latency runs from the request's intended send time, so a server that falls
behind shows its queue instead of slowing the clients down. The tables give the offered rate (sends
that left on time) and the achieved one (good answers per second until the last answer), p50/p99 from
the intended time, late sends (the generator's own limit) and the backlog when sending ended (the
server's queue). The generator runs in processes of its own (one per 1,500 req/s), on the same 2 cores
as the stack.

The mix: each request from a random seeded user: 60% home timeline, 30% user timeline (a random user's
posts), 10% compose post; reads fetch 10 posts at a random offset 0-100. Our lists page by cursor (the
id of the last post seen), not by offset, so a read at offset o is ONE request with the cursor a
client paging there would hold: the id of the o-th post, taken before the run from the user's timeline
in Redis (home) or their posts in PostgreSQL (user). An offset past the end reads the page after the
last post, which is empty (as in DeathStarBench); the table reports the mean posts returned. Compose
posts one ready media of the author (a pool of ready media rows made before the run, sharing one set of
processed variants: upload processing has its own benchmark) through POST /api/posts, which publishes
and fans out through Kafka as usual. Access tokens are issued with the stack's secret (as
/api/auth/login would; login is rate limited per IP).

Baseline, same run: the same gateway and API function answering a request without a token (401 at
admission: no PostgreSQL, no Redis), at its own fixed rates, with the CPU each request cost the `up`
process (where the gateways run), the gateways' sandboxes and the load generator:
where the 2 cores go when the gateway tops out.

Each rate starts from a warm, quiet stack: the mix runs unrecorded for STACK_WARMUP_S first (every
sandbox a request or a post reaches starts then), and before each rate the bench waits until the work
the earlier load left is done (outbox published, every mapping caught up; the time it took is printed).

In-process: the API function's handler called in one process (a child of the bench) on the seeded
data with a warm cache, one call after another, for a home-timeline page of 10 posts and a user's
posts, against a trivial handler (returns a constant response) and the 401 of admission; with the
Redis round trips and PostgreSQL statements of each call, counted.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import multiprocessing
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulator.http.loadgen import LoadResult, Request, run_open_loop
from kafkagram_local.bench import child_processes, cmdline, cpu_seconds, ended_children_cpu_seconds
from kafkagram_local.bench_social import MAX_OFFSET, PAGE, REPO, SECONDS, Plan, Stack

MIX = (("home timeline", 0.6), ("user timeline", 0.3), ("compose post", 0.1))
RATES = (200.0, 500.0, 1000.0, 1500.0)  # the mix, requests per second offered
BASELINE_RATES = (1000.0, 2000.0, 3000.0, 4000.0)  # the 401 baseline
WARMUP_S = 2.0  # sent at the rate before the recorded seconds, not recorded
RATE_PER_PROCESS = 1500.0  # load generator processes: one per this many requests per second
CONNECTIONS = 256  # keep-alive connections of the load generator, all processes together
TIMEOUT_S = 30.0
IN_PROCESS_CALLS = 3000
TARGET_RPS, TARGET_P99_MS = 1000.0, 50.0  # the mix's target (docs/benchmarks.md)
# Before the first rate, the mix at that rate for this long, not recorded: the API's sandboxes and those of
# every function a post reaches (fan-out, notify, explore, webhooks...) start here, not in the figures.
STACK_WARMUP_S = 6.0
SETTLE_TIMEOUT_S = 120.0  # waiting for the work a rate left behind before the next one starts


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _cursor_at(ids: list[int], offset: int) -> str | None:
    """The cursor a client holds after reading `offset` posts (past the end: after the last one)."""
    if offset == 0 or not ids:
        return None
    return str(ids[min(offset, len(ids)) - 1])


def _one_request(stack: Stack, plan: Plan) -> Request:
    """The next request of the mix (drawn from the plan's seeded RNG; a compose takes a media from the pool)."""
    rng = plan.rng
    kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
    user_id = rng.choice(stack.user_ids)
    if kind == "compose post":  # the author needs a media left in the pool: this user, or another at random
        with_media = [u for u in (user_id, *rng.sample(stack.user_ids, min(20, len(stack.user_ids))))
                      if plan.media_pool.get(u)]
        if with_media:
            user_id = with_media[0]
        else:
            kind = "home timeline"
    headers: tuple[tuple[str, str], ...] = (("Authorization", f"Bearer {plan.tokens[user_id]}"),)
    offset = rng.randint(0, MAX_OFFSET)
    if kind == "home timeline":
        cursor = _cursor_at(plan.home_ids[user_id], offset)
        return Request("GET", f"/api/timeline?limit={PAGE}" + (f"&cursor={cursor}" if cursor else ""),
                       headers, kind=kind)
    if kind == "user timeline":
        author = rng.choice(stack.user_ids)
        cursor = _cursor_at(plan.user_post_ids.get(author, []), offset)
        return Request("GET", f"/api/users/{stack.usernames[author]}/posts?limit={PAGE}"
                       + (f"&cursor={cursor}" if cursor else ""), headers, kind=kind)
    media_id = plan.media_pool[user_id].pop()
    body = json.dumps({"caption": f"bench post #dsb {rng.randrange(10**6)}", "media_ids": [str(media_id)]}).encode()
    return Request("POST", "/api/posts", (*headers, ("Content-Type", "application/json")), body, kind=kind)


def posts_in_page(request: Request, status: int, body: bytes) -> int:
    """Posts in a page of reads (every post has exactly one `liked_by_me`): no JSON parse per response."""
    return body.count(b'"liked_by_me":') if request.method == "GET" and status == 200 else 0


def _processes(rate: float) -> int:
    return max(1, math.ceil(rate / RATE_PER_PROCESS))


def _drive_mix(stack: Stack, plan: Plan, rate: float, seconds: float) -> LoadResult:
    requests = [_one_request(stack, plan) for _ in range(round(rate * (WARMUP_S + seconds)))]
    return run_open_loop(stack.http, requests, rate, warmup_s=WARMUP_S, processes=_processes(rate),
                         connections=CONNECTIONS, timeout_s=TIMEOUT_S, metric=posts_in_page)


def _drive_baseline(stack: Stack, rate: float, seconds: float) -> tuple[LoadResult, dict[str, float]]:
    """The same gateway and API function, refused at admission (401: no token): no database work. With
    the CPU each request cost the `up` process (its gateways), the API's sandboxes and the generator."""
    requests = [Request("GET", "/api/timeline", kind="401")] * round(rate * (WARMUP_S + seconds))
    # The gateway's sandboxes start before the CPU is counted: a start is not a request's cost.
    run_open_loop(stack.http, requests[:round(rate)], rate, processes=_processes(rate), connections=CONNECTIONS,
                  timeout_s=TIMEOUT_S)
    with cpu_per_request(stack.up_pid, len(requests)) as cpu:
        result = run_open_loop(stack.http, requests, rate, warmup_s=WARMUP_S, processes=_processes(rate),
                               connections=CONNECTIONS, timeout_s=TIMEOUT_S)
    return result, cpu


@contextmanager
def cpu_per_request(up_pid: int, requests: int) -> Iterator[dict[str, float]]:
    """Fills the yielded dict, once the block ends, with µs of CPU per request (user + system, from
    /proc and getrusage) of: the `up` process (its gateways), the sandboxes of the gateways' functions
    (its children titled "sandbox"), and this process's children that ended in the block (the load
    generator's processes)."""
    cpu: dict[str, float] = {}
    sandboxes = {pid for pid in child_processes(up_pid) if "sandbox" in cmdline(pid)}
    before = {pid: cpu_seconds(pid) for pid in (up_pid, *sandboxes)}
    children_before = ended_children_cpu_seconds()
    yield cpu
    children_after = ended_children_cpu_seconds()
    sandboxes |= {pid for pid in child_processes(up_pid) if "sandbox" in cmdline(pid)}
    used = {pid: cpu_seconds(pid) - before.get(pid, 0.0) for pid in (up_pid, *sandboxes)}
    per_request = 1e6 / max(1, requests)
    cpu["up process (gateways) CPU µs/req"] = used[up_pid] * per_request
    cpu["gateway sandboxes CPU µs/req"] = sum(used[pid] for pid in sandboxes) * per_request
    cpu["load generator CPU µs/req"] = (children_after - children_before) * per_request


# Where a mix request's CPU goes: process groups by command line (process titles), the first match wins.
MIX_CPU_GROUPS = tuple((name, re.compile(pattern)) for name, pattern in (
    ("API sandboxes", r"kafkagram: sandbox kafkagram-local-api\b"),
    ("fan-out sandboxes", r"kafkagram: sandbox kafkagram-local-fan-out\b"),
    ("other sandboxes", r"kafkagram: sandbox "),
    ("pollers", r"kafkagram: poller "),
    ("up (gateways, outbox relay)", r"kafkagram: up\b"),
    ("broker", r"\S*\btansu broker\b"),
    ("PostgreSQL", r"(\S*/)?postgres\b"),
    ("Redis", r"(\S*/)?redis-server\b"),
))


@contextmanager
def cpu_by_group() -> Iterator[dict[str, float]]:
    """Fills the yielded dict, once the block ends, with the CPU seconds each MIX_CPU_GROUPS group used
    in it (every process on the machine, by command line), the seconds of this process's children that
    ended in the block (the load generator), the rest ("other"), and the block's wall seconds ("wall")."""
    before = _cpu_by_process()
    children_before = ended_children_cpu_seconds()
    began = time.monotonic()
    used: dict[str, float] = {}
    yield used
    used.update({name: 0.0 for name, _ in MIX_CPU_GROUPS}, other=0.0)
    used["load generator"] = ended_children_cpu_seconds() - children_before
    for pid, (command, seconds) in _cpu_by_process().items():
        group = next((name for name, pattern in MIX_CPU_GROUPS if pattern.match(command)), "other")
        used[group] += seconds - before.get(pid, (command, 0.0))[1]
    used["wall"] = time.monotonic() - began


def cpu_columns(used: dict[str, float], answered: int) -> dict[str, float]:
    """cpu_by_group's seconds as the cores busy on average and µs of CPU per answered request."""
    groups = {name: seconds for name, seconds in used.items() if name != "wall"}
    per_request = 1e6 / max(1, answered)
    return {"cores busy": sum(groups.values()) / used["wall"] if used["wall"] else 0.0,
            "all, CPU µs/req": sum(groups.values()) * per_request,
            **{f"{name} µs/req": seconds * per_request for name, seconds in groups.items()}}


def _cpu_by_process() -> dict[int, tuple[str, float]]:
    """Every process's command line and CPU seconds so far (those this user may read)."""
    found: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            command = cmdline(int(entry.name)).strip()
            if command:  # kernel threads have none
                found[int(entry.name)] = (command, cpu_seconds(int(entry.name)))
    return found


def _load_columns(result: LoadResult, ok: Callable[[int], bool]) -> dict[str, Any]:
    return {"offered req/s": result.offered_rps(), "achieved req/s": result.achieved_rps(ok),
            "p50 ms": result.percentile_ms(0.5), "p99 ms": result.percentile_ms(0.99),
            "errors": result.sent - result.count(ok=ok), "late sends": result.late_sends,
            "backlog": result.backlog}


def mix_rows(stack: Stack, plan: Plan, rates: Sequence[float] = RATES,
             seconds: float = SECONDS) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The mix at each rate, and where its CPU went (cpu_by_group) at each."""
    rows, cpu_rows = [], []
    if rates:
        _drive_mix(stack, plan, rates[0], STACK_WARMUP_S - WARMUP_S)
    for rate in rates:
        settled_s = settle(stack)
        with cpu_by_group() as used:
            result = _drive_mix(stack, plan, rate, seconds)
        # Answered in the block: the recorded good answers and the warm-up's (sent first; taken as answered).
        answered = result.count(ok=_ok) + round(rate * WARMUP_S)
        cpu_rows.append({"rate req/s": rate, "answered": answered, **cpu_columns(used, answered)})
        row: dict[str, Any] = {"rate req/s": rate, **_load_columns(result, _ok)}
        for kind, short in (("home timeline", "home"), ("user timeline", "user"), ("compose post", "compose")):
            row[f"{short} p50/p99 ms"] = (f"{result.percentile_ms(0.5, kind):.1f}/"
                                         f"{result.percentile_ms(0.99, kind):.1f}")
        row["posts/read home, user"] = "/".join(
            f"{result.mean_metric(kind, _ok):.1f}" for kind in ("home timeline", "user timeline"))
        row["settling before, s"] = round(settled_s, 1)  # the earlier rate's leftover work
        rows.append(row)
    return rows, cpu_rows


def settle(stack: Stack, timeout_s: float = SETTLE_TIMEOUT_S) -> float:
    """Wait until the stack has done the work earlier load left (every committed event published, every
    mapping caught up), so each rate is measured from the same quiet start; the seconds it took.
    RuntimeError after `timeout_s`."""
    from emulator.status import fetch_status
    from kafkagram.db import connect
    from kafkagram.outbox import unpublished_count

    began = time.monotonic()
    connection = connect(stack.database_url)
    try:
        while True:
            unpublished = unpublished_count(connection)
            lagging = {name: figures["lag"] for name, figures in
                       fetch_status("127.0.0.1", stack.ports["status"]).items() if figures["lag"]}
            if not unpublished and not lagging:
                return time.monotonic() - began
            if time.monotonic() - began > timeout_s:
                raise RuntimeError(f"the stack did not settle in {timeout_s:.0f} s: {unpublished} events "
                                   f"unpublished, mappings behind: {lagging}")
            time.sleep(0.2)
    finally:
        connection.close()


def baseline_rows(stack: Stack, rates: Sequence[float] = BASELINE_RATES,
                  seconds: float = SECONDS) -> list[dict[str, Any]]:
    rows = []
    for rate in rates:
        result, cpu = _drive_baseline(stack, rate, seconds)
        rows.append({"rate req/s": rate, **_load_columns(result, lambda s: s == 401), **cpu})
    return rows


def summary_rows(mix: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The highest achieved rate of the mix whose p99 meets the target, and the most each achieved."""
    def best(rows: list[dict[str, Any]], p99_ms: float) -> dict[str, Any] | None:
        meeting = [r for r in rows if r["p99 ms"] <= p99_ms and r["errors"] == 0]  # nan p99: no answer
        return max(meeting, key=lambda r: r["achieved req/s"]) if meeting else None

    mix_best = best(mix, TARGET_P99_MS)
    top_mix = max((r["achieved req/s"] for r in mix), default=0.0)
    top_base = max((r["achieved req/s"] for r in baseline), default=0.0)
    return [{
        "mix: most req/s with p99 <= 50 ms": mix_best["achieved req/s"] if mix_best else 0.0,
        "its p50/p99 ms": f"{mix_best['p50 ms']:.1f}/{mix_best['p99 ms']:.1f}" if mix_best else "-",
        "mix: most req/s achieved": top_mix, "401 baseline: most req/s achieved": top_base,
        "mix / baseline": top_mix / top_base if top_base else float("nan")}]


# --- In-process cost of a page ----------------------------------------------------------------------------

def in_process_rows(stack: Stack, plan: Plan, calls: int = IN_PROCESS_CALLS) -> list[dict[str, Any]]:
    """The handler's cost per call in a process of its own (the function's modules are top-level, as in
    its sandbox), on the stack's data and warm caches."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    env = {"DATABASE_URL": stack.database_url, "REDIS_URL": stack.redis_url}
    users = [u for u in stack.user_ids if plan.home_ids.get(u)] or stack.user_ids
    tokens = {user: plan.tokens[user] for user in users}
    authors = ([stack.usernames[u] for u in stack.user_ids if plan.user_post_ids.get(u)]
               or list(stack.usernames.values()))
    worker = context.Process(target=_in_process_main, args=(child, env, tokens, authors, calls), daemon=True)
    worker.start()
    child.close()
    try:
        rows: list[dict[str, Any]] = parent.recv()
    finally:
        worker.join(timeout=60)
    return rows


@functools.cache
def _routes() -> Any:
    from emulator.http.routes import build_route_table
    from emulator.template import parse_template

    return build_route_table(parse_template(REPO / "template.yaml"))


def _event(path: str, token: str | None) -> dict[str, Any]:
    """The payload 2.0 event the gateway builds for a GET of `path`."""
    from emulator.http.events import IncomingRequest, build_v2_event

    raw_path, _, raw_query = path.partition("?")
    match = _routes().match("GET", raw_path.strip("/").split("/"))
    assert match is not None
    headers = [("Host", "127.0.0.1:3000"), ("User-Agent", "bench"), ("Accept", "*/*")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    query = [(k, v) for k, _, v in (pair.partition("=") for pair in raw_query.split("&") if pair)]
    incoming = IncomingRequest("GET", raw_path, raw_path, raw_query, query, headers, b"", "127.0.0.1", "HTTP/1.1",
                               "127.0.0.1:3000", 3000, str(uuid.uuid4()), datetime.now(UTC))
    return build_v2_event(match.route, match.path_parameters, incoming, "000000000000")


def _in_process_main(conn: Any, env: dict[str, str], tokens: dict[int, str], authors: list[str],
                     calls: int) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(REPO / "functions" / "api"))
    import app  # the API function's module

    rng = random.Random(7)
    users = list(tokens)
    cases: list[tuple[str, Callable[[dict[str, Any], Any], Any], list[dict[str, Any]]]] = [
        ("trivial handler (a constant 200)", _trivial_handler, [_event("/api/timeline", None)] * calls),
        ("401 at admission (no token)", app.handler, [_event("/api/timeline", None)] * calls),
        ("home timeline page, 10 posts (warm cache)", app.handler,
         [_event(f"/api/timeline?limit={PAGE}", tokens[rng.choice(users)]) for _ in range(calls)]),
        ("a user's posts, 10 per page", app.handler,
         [_event(f"/api/users/{rng.choice(authors)}/posts?limit={PAGE}", tokens[rng.choice(users)])
          for _ in range(calls)]),
    ]
    rows = []
    baseline_p50 = None
    for name, handler, events in cases:
        for event in events:  # warm: connections, scripts, and every page's posts in the post cache
            handler(event, None)
        with _Counting() as counted:
            durations = []
            for event in events:
                started = time.perf_counter()
                result = handler(event, None)
                durations.append(time.perf_counter() - started)
                assert result["statusCode"] in (200, 401), result
        durations.sort()
        p50 = durations[len(durations) // 2] * 1e6
        baseline_p50 = baseline_p50 or p50
        rows.append({"call": name, "calls": len(durations), "p50 us": p50,
                     "p99 us": durations[min(len(durations) - 1, math.ceil(0.99 * len(durations)) - 1)] * 1e6,
                     "mean us": statistics.fmean(durations) * 1e6, "vs trivial (p50)": p50 / baseline_p50,
                     "Redis round trips/call": counted.redis / len(events),
                     "PostgreSQL statements/call": counted.sql / len(events)})
    conn.send(rows)


def _trivial_handler(_event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


class _Counting:
    """Counts Redis round trips (a command, or a pipeline) and PostgreSQL statements while it is entered."""

    def __enter__(self) -> _Counting:
        import pg8000.native
        import redis
        from redis.client import Pipeline

        self.redis = self.sql = 0
        self._saved = [(redis.Redis, "execute_command"), (Pipeline, "execute"),
                       (pg8000.native.Connection, "run"), (pg8000.native.PreparedStatement, "run")]
        self._originals = [getattr(owner, name) for owner, name in self._saved]
        for (owner, name), original in zip(self._saved, self._originals, strict=True):
            setattr(owner, name, self._counted(original, "sql" if "pg8000" in owner.__module__ else "redis"))
        return self

    def _counted(self, original: Callable[..., Any], what: str) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            setattr(self, what, getattr(self, what) + 1)
            return original(*args, **kwargs)
        return counted

    def __exit__(self, *_exc: object) -> None:
        for (owner, name), original in zip(self._saved, self._originals, strict=True):
            setattr(owner, name, original)


# --- Entry points -----------------------------------------------------------------------------------------

def mix_composes(rates: Sequence[float], seconds: float) -> float:
    """Compose requests the mix may send at these rates (to size the media pool), its warm-up included."""
    requests = sum(rates) * (WARMUP_S + seconds) + (rates[0] * STACK_WARMUP_S if rates else 0.0)
    return requests * dict(MIX).get("compose post", 0.0) * 1.3


def mix_tables(stack: Stack, plan: Plan, rates: Sequence[float] = RATES,
               baseline_rates: Sequence[float] = BASELINE_RATES, seconds: float = SECONDS,
               in_process_calls: int = IN_PROCESS_CALLS) -> dict[str, list[dict[str, Any]]]:
    """Tables "mix", "mix 401 baseline", "mix summary", "mix in-process" and "mix CPU" (measured with "mix")."""
    baseline = baseline_rows(stack, baseline_rates, seconds)
    in_process = in_process_rows(stack, plan, in_process_calls)
    mix, mix_cpu = mix_rows(stack, plan, rates, seconds)
    return {"mix": mix, "mix 401 baseline": baseline, "mix summary": summary_rows(mix, baseline),
            "mix in-process": in_process, "mix CPU": mix_cpu}


def print_mix_tables(tables: dict[str, list[dict[str, Any]]]) -> None:
    from kafkagram_local.bench import _print_table

    if "mix" in tables:
        _print_table("DeathStarBench mix on Reed98 through the HTTP API, open loop (60% home timeline, 30% user "
                     "timeline, 10% compose; 10 posts at offset 0-100); latency from the intended send time",
                     tables["mix"])
    if "mix CPU" in tables:
        _print_table("Where the mix's CPU goes: CPU µs per answered request of each group of processes (every "
                     "process on the machine, from /proc), and the cores busy on average", tables["mix CPU"])
    if "mix 401 baseline" in tables:
        _print_table("Baseline, same run: the same gateway and API function answering 401 (no token), open loop",
                     tables["mix 401 baseline"])
    if "mix summary" in tables:
        _print_table("Mix vs 401 baseline (target: >= 1,000 req/s with p99 <= 50 ms)", tables["mix summary"])
    if "mix in-process" in tables:
        _print_table("The API function in-process on the seeded data (warm cache), one call after another",
                     tables["mix in-process"])


def run_mix_bench(rates: Sequence[float] = RATES, baseline_rates: Sequence[float] = BASELINE_RATES,
                  seconds: float = SECONDS, seed_users: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """The mix's tables on a stack of its own (`kafkagram_local.bench_social.running_stack`)."""
    from kafkagram_local.bench_social import MEDIA_POOL_PER_USER, make_media_pool, prepare_plan, running_stack

    with running_stack(seed_users=seed_users) as stack:
        per_user = max(MEDIA_POOL_PER_USER, int(mix_composes(rates, seconds) / max(1, len(stack.user_ids))) + 2)
        plan = prepare_plan(stack, make_media_pool(stack, per_user))
        return mix_tables(stack, plan, rates, baseline_rates, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=float, nargs="*", default=list(RATES))
    parser.add_argument("--baseline-rates", type=float, nargs="*", default=list(BASELINE_RATES))
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    print_mix_tables(run_mix_bench(tuple(args.rates), tuple(args.baseline_rates), args.seconds))


if __name__ == "__main__":
    main()
