"""`kafkagram bench`'s Kafka and `up` tables at a tiny scale: every figure they print is measured from
what really happened (no timings are asserted; `make bench` prints them)."""

from __future__ import annotations

import pytest

from kafkagram_local.bench import hop_latency_bench, kafka_bench, up_idle_cpu
from tests.support.services import create_test_database


def test_the_throughput_table_compares_runs_with_the_raw_consumer(kafka_bootstrap):
    rows = kafka_bench(kafka_bootstrap, cases={1: 30, 100: 600}, runs=2)
    assert [(row["batch_size"], row["records"]) for row in rows] == [(1, 30), (100, 600)]
    for row in rows:
        assert row["raw_rps"] > 0 and row["runtime_rps"] > 0
        assert row["ratio"] == pytest.approx(row["runtime_rps"] / row["raw_rps"])
        ratios = [float(r) for r in row["ratios"].split()]
        assert len(ratios) == 2 and ratios == sorted(ratios) and f"{row['ratio']:.2f}" in row["ratios"]
        assert 0 < row["invoke_p50_ms"] <= row["invoke_p99_ms"]


def test_the_latency_table_follows_records_into_an_idle_runtime(kafka_bootstrap):
    rows = hop_latency_bench(kafka_bootstrap, records=2, gap_s=1.5)
    assert [row["producer"] for row in rows] == ["nudged", "not-nudged"]
    for row in rows:
        assert row["records"] == 2
        for column in ("produce_to_fetch p50/p99", "fetch_to_invoke p50/p99", "handler p50/p99",
                       "produce_to_handler p50/p99"):
            p50, p99 = (float(part) for part in row[column].split(" / "))
            assert 0 <= p50 <= p99


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_idle_table_measures_kafkagram_up_once_it_sleeps():
    database = create_test_database("kafkagram_idle_bench", migrated=False)
    rows = up_idle_cpu(seconds=2, env_overrides={"DATABASE_URL": database})
    *groups, total = rows
    assert [row["processes"].split(" (")[0] for row in groups] == ["kafkagram up", "broker", "pollers",
                                                                   "sandboxes and others"]
    assert int(groups[2]["processes"].split("(")[1].rstrip(")")) >= 10  # one poller per mapping of template.yaml
    assert total["cpu_s"] == pytest.approx(sum(row["cpu_s"] for row in groups))
    assert all(row["cpu_s"] >= 0 for row in rows) and total["cpu_s"] > 0
