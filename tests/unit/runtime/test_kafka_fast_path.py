"""The mapping's fast path, without a broker: the sandbox builds from columns exactly the event records
KafkaRecord.to_event_record renders one by one; status figures and the benchmark's helpers."""

from __future__ import annotations

import os
import pickle
import statistics
import uuid

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, TIMESTAMP_NOT_AVAILABLE, Message

from emulator.kafka.poller import PollerStats
from emulator.kafka.records import KafkaRecord, batch_columns, event_from_batch, invocation_event
from emulator.sandbox import _dumps, new_request_id
from emulator.status import HOPS, StatusBoard, percentile
from kafkagram_local.bench import _pair, _stamps, cpu_seconds, process_tree


def messages(count: int, **overrides) -> list[Message]:
    return [Message(**{"topic": "orders", "partition": 3, "offset": 100 + i, "key": f"k{i}".encode(),
                       "value": f'{{"n": {i}}}'.encode(), "timestamp": (TIMESTAMP_CREATE_TIME, 1_700_000_000_000 + i),
                       **{name: value(i) if callable(value) else value for name, value in overrides.items()}})
            for i in range(count)]


CASES = {
    "plain": messages(5),
    "no keys, no values, empty ones": messages(6, key=lambda i: None if i % 2 else b"",
                                               value=lambda i: [None, b""][i % 2]),
    "binary and non-ASCII": messages(4, key=lambda i: bytes([i, 255, 0]), value=lambda i: ("ë€" * i).encode()),
    "headers, some absent": messages(5, headers=lambda i: None if i % 2 else [("trace", "abë".encode()), ("none", None),
                                                                             ("trace", b"\x80\xff")]),
    "empty header lists": messages(3, headers=[]),
    "log append time": messages(3, timestamp=lambda i: (TIMESTAMP_LOG_APPEND_TIME, 5 + i)),
    "mixed timestamp types": messages(4, timestamp=lambda i: ([TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME,
                                                               TIMESTAMP_NOT_AVAILABLE][i % 3], i)),
    "one record": messages(1),
}


@pytest.mark.parametrize("batch", CASES.values(), ids=CASES.keys())
def test_the_event_built_from_columns_is_the_one_built_record_by_record(batch):
    header = {"event_source": "aws:kafka", "event_source_arn": "arn:aws:kafka:us-east-1:1:cluster/c/1",
              "bootstrap_servers": "b1:9092,b2:9092"}
    # The columns cross the pipe as a pickle.
    columns = pickle.loads(_dumps(batch_columns(batch)))
    expected = invocation_event(KafkaRecord.from_messages(batch), **header)
    assert event_from_batch((header, columns)) == expected
    assert list(expected["records"]) == ["orders-3"]


def test_an_event_without_an_arn_has_no_arn_key():
    header = {"event_source": "SelfManagedKafka", "event_source_arn": None, "bootstrap_servers": "b:9092"}
    event = event_from_batch((header, batch_columns(messages(2))))
    assert list(event) == ["eventSource", "bootstrapServers", "records"]


def test_records_are_distinct_objects():
    event = event_from_batch(({"event_source": "aws:kafka", "event_source_arn": None, "bootstrap_servers": "b"},
                              batch_columns(messages(3))))
    first, second, _ = event["records"]["orders-3"]
    first["headers"].append({"changed": [1]})
    assert second["headers"] == [] and first is not second


def test_pickling_without_the_memo_falls_back_for_structures_that_refer_to_themselves():
    loop: dict = {"a": [1, 2]}
    loop["self"] = loop
    copy = pickle.loads(_dumps(loop))
    assert copy["self"] is copy
    assert pickle.loads(_dumps({"shared": [b"x"] * 3})) == {"shared": [b"x"] * 3}


def test_request_ids_are_version_4_uuids():
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    for text in list(ids)[:100]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


@pytest.mark.parametrize("count", [1, 2, 3, 7, 100, 101, 999])
def test_percentile_is_statistics_quantiles_inclusive(count):
    samples = [((i * 7919) % 1000) / 10 for i in range(count)]
    for fraction in (0.01, 0.25, 0.5, 0.9, 0.99, 0.0, 1.0):
        if count == 1:
            assert percentile(samples, fraction) == samples[0]
            continue
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        assert percentile(samples, fraction) == pytest.approx(cuts[min(98, max(0, round(fraction * 100) - 1))])
    assert percentile([], 0.5) is None


def test_the_status_shows_hops_sleep_and_the_latest_batch():
    board = StatusBoard()
    board.declare("F.Stream", "f", True)
    board.workers = {"F.Stream": [11, 12]}
    stats = PollerStats(records=3, invocations=2, durations_ms=[1.0, 3.0], produce_to_fetch_ms=[2.0, 4.0],
                        fetch_to_invoke_ms=[0.5], handler_ms=[0.1, 0.3], last_batch_at=1000.0)
    common = {"esm": "F.Stream", "function": "f", "partitions": {"t-0": {"committed": 3, "seen": 2, "end": 3,
                                                                         "lag": 0}}}
    board.record(11, {**common, "asleep": True, "looks": 4, "nudges": 1, "assigned_at": 900.0, **stats.drain()})
    board.record(12, {**common, "partitions": {}, "asleep": False, "looks": 0, "nudges": 2, "assigned_at": 950.0,
                      **PollerStats(last_batch_at=999.0).drain()})
    figures = board.snapshot()["F.Stream"]
    assert figures["asleep"] is False  # one of two workers is awake
    assert (figures["looks"], figures["nudges"]) == (4, 3)
    assert figures["produce_to_fetch_ms_p50"] == 3.0 and figures["fetch_to_invoke_ms_p99"] == 0.5
    assert figures["handler_ms_p50"] == pytest.approx(0.2)
    assert (figures["assigned_at"], figures["last_batch_at"]) == (950.0, 1000.0)
    assert all(f"{hop}_p50" in figures and f"{hop}_p99" in figures for hop in HOPS)
    assert stats.drain()["produce_to_fetch_ms"] == []  # drained


def test_the_benchmark_reads_cpu_time_and_the_process_tree_from_proc():
    assert process_tree(os.getpid())[0] == os.getpid()
    spent = cpu_seconds(os.getpid())
    sum(i * i for i in range(300_000))
    assert cpu_seconds(os.getpid()) >= spent > 0
    assert cpu_seconds(2 ** 22 + 12345) == 0.0  # no such process


def test_the_benchmark_reads_the_stamps_the_latency_function_writes(tmp_path):
    stamps = tmp_path / "s"
    assert _stamps(stamps) == []
    stamps.write_text("1700000000000 1700000000004.500\n1700000000010 1700000000012.000\n")
    assert _stamps(stamps) == [(1700000000000.0, 1700000000004.5), (1700000000010.0, 1700000000012.0)]
    assert _pair(1.234, 5.0) == "1.2 / 5.0" and _pair(None, 1.0) == "-"
