"""`make bench`: figures measured in one run, each against a raw baseline measured in the same run.

Kafka event source mappings: records per second through a no-op function vs raw confluent-kafka
consumption (consume + commit per batch) of the same backlog, at batch sizes 1, 100 and 1,000.
Plus the time from `kafkagram up` to ready, and the HTTP and WebSocket gateway benchmarks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, Producer

from emulator.kafka.broker import LocalBroker, ensure_topics
from emulator.runtime import Runtime, RuntimeOptions

BENCH_FUNCTIONS = Path(__file__).parent / "bench_functions"
PARTITIONS = 6
RECORD_BYTES = 100
# Batch size -> records in the backlog (batch 1 costs one invocation per record, so fewer).
KAFKA_CASES = {1: 5_000, 100: 200_000, 1000: 200_000}
CLUSTER_ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/bench/1"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _produce_backlog(servers: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": servers, "linger.ms": 20, "batch.num.messages": 10_000})
    payload = b"x" * RECORD_BYTES
    for i in range(count):
        while True:
            try:
                producer.produce(topic, value=payload, key=str(i % 1000).encode())
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(60)


def raw_consume_rate(servers: str, topic: str, count: int, batch_size: int) -> float:
    """Records/s of a plain confluent-kafka consumer: consume a batch, commit it, repeat."""
    consumer = Consumer({"bootstrap.servers": servers, "group.id": f"raw-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000})
    started: list[float] = []
    consumer.subscribe([topic], on_assign=lambda *_: started.append(time.perf_counter()))
    seen = 0
    while seen < count:
        messages = consumer.consume(num_messages=batch_size, timeout=1.0)
        seen += sum(1 for m in messages if not m.error() and m.value() is not None)
        if messages:
            consumer.commit(asynchronous=True)
    elapsed = time.perf_counter() - started[0]
    consumer.close()
    return count / elapsed


def runtime_rate(servers: str, topic: str, count: int, batch_size: int) -> tuple[float, dict[str, Any]]:
    """Records/s through the runtime's poller and a no-op function, from assignment to the last record."""
    with tempfile.TemporaryDirectory() as directory:
        template = Path(directory) / "template.yaml"
        template.write_text(yaml.safe_dump({
            "Transform": "AWS::Serverless-2016-10-31",
            "Resources": {"Noop": {"Type": "AWS::Serverless::Function", "Properties": {
                "CodeUri": str(BENCH_FUNCTIONS), "Handler": "noop.handler", "Runtime": "python3.11",
                "Events": {"Stream": {"Type": "MSK", "Properties": {
                    "Stream": CLUSTER_ARN, "Topics": [topic], "StartingPosition": "TRIM_HORIZON",
                    "ConsumerGroupId": f"bench-{uuid.uuid4().hex}", "BatchSize": batch_size,
                    "MaximumBatchingWindowInSeconds": 0}}}}}},
        }))
        runtime = Runtime(RuntimeOptions(template_path=template, kafka_bootstrap_servers=servers,
                                         session_timeout_ms=2000, status_port=_free_port()))
        runtime.start()
        try:
            _wait(lambda: runtime.status()["Noop.Stream"]["partitions"], 60)
            started = time.perf_counter()
            _wait(lambda: runtime.status()["Noop.Stream"]["records"] >= count, 600, interval=0.01)
            elapsed = time.perf_counter() - started
            figures = runtime.status()["Noop.Stream"]
        finally:
            runtime.stop()
    return count / elapsed, figures


def _wait(condition: Callable[[], Any], timeout: float, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        time.sleep(interval)


def kafka_bench(servers: str) -> list[dict[str, Any]]:
    rows = []
    for batch_size, count in KAFKA_CASES.items():
        topic = f"bench-{batch_size}-{uuid.uuid4().hex[:6]}"
        ensure_topics(servers, {topic: PARTITIONS})
        _produce_backlog(servers, topic, count)
        raw = raw_consume_rate(servers, topic, count, batch_size)
        ours, figures = runtime_rate(servers, topic, count, batch_size)
        rows.append({"batch_size": batch_size, "records": count, "raw_rps": raw, "runtime_rps": ours,
                     "ratio": ours / raw, "invoke_p50_ms": figures["duration_ms_p50"],
                     "invoke_p99_ms": figures["duration_ms_p99"]})
    return rows


def up_to_ready_seconds() -> float:
    """Wall time of `kafkagram up` until it prints ready (fresh broker and S3, existing virtualenv)."""
    ports = {"KAFKA_PORT": _free_port(), "S3_PORT": _free_port(), "HTTP_PORT": _free_port(),
             "WEBSOCKET_PORT": _free_port(), "STATUS_PORT": _free_port(), "SMTP_PORT": _free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.pop("AWS_ENDPOINT_URL_S3", None)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "up"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if line.startswith("ready in"):
                return time.perf_counter() - started
        raise RuntimeError("`kafkagram up` exited before it was ready")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def _print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    if not rows:
        return
    columns = list(rows[0])
    cells = [[_format(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) + " |")


def _format(value: Any) -> str:
    if isinstance(value, float):
        if 0 < abs(value) < 0.01:
            return f"{value:.1e}"  # ratios against an in-process call are tiny; keep their digits
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _websocket_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per measurement of the WebSocket bench's nested result."""
    measures = {
        "connect (50 handshakes in flight)": result["connect"],
        "post_to_connection via boto3 -> client has it": result["post_boto3"]["delivery"],
        "POST @connections via aiohttp -> client has it": result["post_aiohttp"]["delivery"],
        "client -> $default function -> client": result["lambda_round_trip"],
    }
    rows = [{"measure": name, "n": m["n"], "p50_ms": m["p50_ms"], "p99_ms": m["p99_ms"]}
            for name, m in measures.items()]
    rss = result["gateway_rss_mb"]
    rows.append({"measure": f"gateway RSS MB idle / with {result['connections_requested']} connections",
                 "n": result["connections_requested"], "p50_ms": rss["idle"], "p99_ms": rss["with_connections"]})
    return rows


def run_benchmarks(only: list[str]) -> None:
    selected = set(only) or {"kafka", "up", "http", "websocket", "media", "timeline", "mix", "push"}
    broker = None
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if "kafka" in selected and not servers:
        broker = LocalBroker(port=_free_port())
        servers = broker.start()
    try:
        if "kafka" in selected and servers:
            _print_table("Kafka event source mapping: no-op function vs raw confluent-kafka (records/s)",
                         kafka_bench(servers))
    finally:
        if broker is not None:
            broker.stop()
    if "up" in selected:
        _print_table("Start-up", [{"step": "kafkagram up -> ready", "seconds": up_to_ready_seconds()}])
    if "http" in selected:
        from emulator.http.bench import run_http_bench

        _print_table("HTTP API: trivial function through the gateway vs called in-process", run_http_bench())
    if "media" in selected:
        from kafkagram_local.bench_media import run_media_bench

        _print_table("Upload processing: 12 MP JPEGs, process_image vs a raw Pillow draft-decode-resize loop",
                     run_media_bench())
    if "timeline" in selected:
        from kafkagram_local.bench_timeline import run_timeline_bench

        _print_table("Fan-out on Reed98: FeedManager vs raw pipelined ZADD", run_timeline_bench())
    if "websocket" in selected:
        from emulator.websocket.bench import run_ws_bench

        _print_table("WebSocket: 500 open connections; post_to_connection to client receipt",
                     _websocket_rows(run_ws_bench()))
    if selected & {"mix", "push"}:  # one stack, seeded once, for both
        from kafkagram_local.bench_social import print_social_tables, run_social_bench

        print_social_tables(run_social_bench({"mix", "push"} & selected))
