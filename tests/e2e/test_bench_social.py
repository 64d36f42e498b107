"""The social benchmarks' code at a tiny scale (a 60-user subgraph, a second per level): it runs end
to end against the real stack and every request and push it measures really happened. No timings are
asserted; `make bench` prints them."""

from __future__ import annotations

import pytest

from kafkagram_local.bench_social import run_social_bench
from tests.support.services import RUN_ID


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_social_benchmarks_run_at_tiny_scale():
    tables = run_social_bench(set(), seconds=1.0, levels=(4,), ws_runs=((10.0, 1.0),), seed_users=60,
                              drain_s=60.0, database=f"kafkagram_bench_test_{RUN_ID}")

    [mix] = tables["mix"]
    assert mix["clients"] == 4 and mix["requests"] > 0
    assert mix["errors"] == 0
    assert mix["401 baseline req/s"] > 0

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
