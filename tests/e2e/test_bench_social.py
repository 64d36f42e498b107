"""The social benchmarks' code at a tiny scale (a 60-user subgraph, a second per rate): it runs end
to end against the real stack and every request and push it measures really happened. No timings are
asserted; `make bench` prints them."""

from __future__ import annotations

import pytest

from kafkagram_local.bench_mix import SETTLE_TIMEOUT_S
from kafkagram_local.bench_social import run_social_bench
from tests.support.services import RUN_ID


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_social_benchmarks_run_at_tiny_scale():
    tables = run_social_bench(set(), seconds=1.0, rates=(20.0,), ws_runs=((10.0, 1.0),), seed_users=60,
                              drain_s=60.0, database=f"kafkagram_bench_test_{RUN_ID}", baseline_rates=(50.0,))

    # The mix, open loop: every request of the schedule was sent (on time, or counted as late) and answered well.
    [mix] = tables["mix"]
    assert mix["rate req/s"] == 20.0 and mix["errors"] == 0 and mix["achieved req/s"] > 0
    assert mix["offered req/s"] + mix["late sends"] / 1.0 == pytest.approx(20.0)  # 20 recorded sends in 1 s
    assert 0 < mix["p50 ms"] <= mix["p99 ms"] < float("inf")
    # Before the rate, the bench waited for the warm-up's work (its posts published and fanned out).
    assert 0 <= mix["settling before, s"] < SETTLE_TIMEOUT_S
    # Where its CPU went: the API's sandboxes and PostgreSQL served it, the generator sent it.
    [cpu] = tables["mix CPU"]
    assert min(cpu["API sandboxes µs/req"], cpu["PostgreSQL µs/req"], cpu["load generator µs/req"]) > 0
    [baseline] = tables["mix 401 baseline"]
    assert baseline["errors"] == 0 and baseline["achieved req/s"] > 0  # every answer a 401
    [summary] = tables["mix summary"]
    assert summary["401 baseline: most req/s achieved"] == baseline["achieved req/s"]
    # In-process: the home page's one Redis round trip and one PostgreSQL statement, against a trivial handler.
    in_process = {row["call"]: row for row in tables["mix in-process"]}
    home = in_process["home timeline page, 10 posts (warm cache)"]
    assert home["Redis round trips/call"] == 1 and home["PostgreSQL statements/call"] == 1
    assert in_process["trivial handler (a constant 200)"]["vs trivial (p50)"] == 1

    [push] = tables["push"]
    assert push["connections"] == 60 and push["posts"] == 10
    delivered, expected = (int(n.replace(",", "")) for n in push["pushes"].split("/"))
    assert expected > 0 and delivered == expected  # every follower of every post got its push

    # The latency budget splits each post's path into hops, each measured on the posts of the run.
    budget = {row["hop"]: row for row in tables["push budget at 10 posts/s"]}
    for hop in ("post-created: made in the commit -> relay produced",
                "post-created produced -> fan-out made timeline-updated",
                "timeline-updated: made in the commit -> relay produced",
                "timeline-updated produced -> frame at the client"):
        assert budget[hop]["n"] > 0 and budget[hop]["p50 ms"] >= 0, hop
