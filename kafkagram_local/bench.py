"""`make bench`: figures measured in one run, each against a raw baseline measured in the same run.

Kafka event source mappings: records per second through a no-op function vs raw confluent-kafka
consumption (consume + commit per batch) of the same backlog, at batch sizes 1, 100 and 1,000, each
case three times (the median ratio, and the raw and runtime figures of that run); and where a record's
time goes on its way into an idle runtime. `kafkagram up`: the time to ready, and the CPU it uses
while nothing happens. Plus the HTTP and WebSocket gateway benchmarks.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, Producer

from emulator.kafka.broker import LocalBroker, ensure_topics
from emulator.kafka.poller import FETCH_QUEUE_BACKOFF_MS, HOT_S
from emulator.lifetime import die_with_parent
from emulator.runtime import Runtime, RuntimeOptions
from emulator.status import percentile

BENCH_FUNCTIONS = Path(__file__).parent / "bench_functions"
PARTITIONS = 6
RECORD_BYTES = 100
# Batch size -> records in the backlog (batch 1 costs one invocation per record, so fewer).
KAFKA_CASES = {1: 20_000, 100: 1_000_000, 1000: 1_000_000}
KAFKA_RUNS = 3
CLUSTER_ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/bench/1"
# Sandboxes a benchmarked poller starts before it joins its group: the figures leave out cold starts.
WARM_SANDBOXES = 4
LATENCY_RECORDS = 15
IDLE_SECONDS = 30.0


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
    """Records/s of a plain confluent-kafka consumer: consume a batch, commit it, repeat. It gets the one
    setting the runtime's pollers change for throughput, `fetch.queue.backoff.ms`: with librdkafka's
    default (1 s) it stalled a second whenever its queue filled, which made it 250 K/s in some runs and
    900 K/s in others."""
    consumer = Consumer({"bootstrap.servers": servers, "group.id": f"raw-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000, "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS})
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


def _write_template(directory: Path, functions: dict[str, tuple[str, str, int, dict[str, str]]]) -> Path:
    """logical id -> (handler, topic, batch size, environment) of functions with one MSK event each."""
    template = directory / "template.yaml"
    template.write_text(yaml.safe_dump({
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {logical_id: {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": str(BENCH_FUNCTIONS), "Handler": handler, "Runtime": "python3.11",
            "Environment": {"Variables": environment},
            "Events": {"Stream": {"Type": "MSK", "Properties": {
                "Stream": CLUSTER_ARN, "Topics": [topic], "StartingPosition": "TRIM_HORIZON",
                "ConsumerGroupId": f"bench-{uuid.uuid4().hex}", "BatchSize": batch_size,
                "MaximumBatchingWindowInSeconds": 0}}}}}
            for logical_id, (handler, topic, batch_size, environment) in functions.items()},
    }))
    return template


@contextmanager
def _runtime(template: Path, servers: str, **options: Any) -> Iterator[Runtime]:
    runtime = Runtime(RuntimeOptions(template_path=template, kafka_bootstrap_servers=servers,
                                     session_timeout_ms=2000, status_port=_free_port(), **options))
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


def runtime_rate(servers: str, topic: str, count: int, batch_size: int) -> tuple[float, dict[str, Any]]:
    """Records/s through the runtime's poller and a no-op function, from the partitions' assignment to
    the end of the last invocation (both as the poller reports them: the status figures come once a
    second, which would blur a run of a second or two)."""
    with tempfile.TemporaryDirectory() as directory:
        template = _write_template(Path(directory), {"Noop": ("noop.handler", topic, batch_size, {})})
        with _runtime(template, servers, warm_sandboxes=WARM_SANDBOXES) as runtime:
            _wait(lambda: runtime.status()["Noop.Stream"]["records"] >= count, 600, interval=0.2)
            figures = runtime.status()["Noop.Stream"]
    return count / (figures["last_batch_at"] - figures["assigned_at"]), figures


def _wait(condition: Callable[[], Any], timeout: float, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        time.sleep(interval)


def kafka_bench(servers: str, cases: dict[int, int] | None = None, runs: int = KAFKA_RUNS) -> list[dict[str, Any]]:
    """Per batch size: `runs` runs of the raw consumer then the runtime over one backlog (each with a
    group of its own); the row of the run with the median ratio, and every run's ratio."""
    rows = []
    for batch_size, count in (cases or KAFKA_CASES).items():
        topic = f"bench-{batch_size}-{uuid.uuid4().hex[:6]}"
        ensure_topics(servers, {topic: PARTITIONS})
        _produce_backlog(servers, topic, count)
        measured = []
        for _ in range(runs):
            raw = raw_consume_rate(servers, topic, count, batch_size)
            ours, figures = runtime_rate(servers, topic, count, batch_size)
            measured.append((ours / raw, raw, ours, figures))
        measured.sort(key=lambda run: run[0])
        ratio, raw, ours, figures = measured[len(measured) // 2]
        rows.append({"batch_size": batch_size, "records": count, "raw_rps": raw, "runtime_rps": ours,
                     "ratio": ratio, "ratios": " ".join(f"{run[0]:.2f}" for run in measured),
                     "invoke_p50_ms": figures["duration_ms_p50"], "invoke_p99_ms": figures["duration_ms_p99"]})
    return rows


def hop_latency_bench(servers: str, records: int = LATENCY_RECORDS, gap_s: float = HOT_S + 0.5) -> list[dict[str, Any]]:
    """Records produced one at a time, `gap_s` apart (long enough for the pollers to fall asleep), into
    an idle runtime: one topic whose producer nudges the runtime right after each record (as
    `kafkagram up`'s outbox relay does), one whose producer does not (any other program). Per hop,
    p50/p99 in ms: produce -> the poller's fetch, fetch -> the sandbox starts the handler, the handler,
    and produce -> handler start as the function itself saw it."""
    topics = {mode: f"latency-{mode}-{uuid.uuid4().hex[:6]}" for mode in ("nudged", "not-nudged")}
    ensure_topics(servers, {topic: 1 for topic in topics.values()})
    with tempfile.TemporaryDirectory() as directory:
        stamps = {mode: Path(directory) / f"{mode}.stamps" for mode in topics}
        functions = {mode.title().replace("-", ""): ("stamp.handler", topic, 100, {"STAMP_FILE": str(stamps[mode])})
                     for mode, topic in topics.items()}
        template = _write_template(Path(directory), functions)
        producer = Producer({"bootstrap.servers": servers, "linger.ms": 0})
        with _runtime(template, servers, warm_sandboxes=1) as runtime:
            _wait(lambda: all(figures["partitions"] for figures in runtime.status().values()), 60)
            time.sleep(gap_s)
            for _ in range(records):
                for mode, topic in topics.items():
                    producer.produce(topic, value=b"x" * RECORD_BYTES)
                    producer.flush(10)
                    if mode == "nudged":
                        runtime.nudge([topic])
                time.sleep(gap_s)
            _wait(lambda: all(len(_stamps(path)) >= records for path in stamps.values()), 30)
            # Records, not invocations: a look can find two records of the not-nudged topic at once.
            _wait(lambda: all(figures["records"] >= records for figures in runtime.status().values()), 15)
            status = runtime.status()
        rows = []
        for mode in topics:
            figures = status[f"{mode.title().replace('-', '')}.Stream"]
            end_to_end = [started - produced for produced, started in _stamps(stamps[mode])]
            rows.append({"producer": mode, "records": len(end_to_end),
                         **{f"{hop} p50/p99": _pair(figures[f"{hop}_ms_p50"], figures[f"{hop}_ms_p99"])
                            for hop in ("produce_to_fetch", "fetch_to_invoke", "handler")},
                         "produce_to_handler p50/p99": _pair(percentile(end_to_end, 0.5),
                                                             percentile(end_to_end, 0.99))})
    return rows


def _stamps(path: Path) -> list[tuple[float, float]]:
    if not path.exists():
        return []
    return [(float(produced), float(started)) for produced, started in
            (line.split() for line in path.read_text().splitlines() if line)]


def _pair(p50: float | None, p99: float | None) -> str:
    return "-" if p50 is None or p99 is None else f"{p50:.1f} / {p99:.1f}"


@contextmanager
def running_up(env_overrides: dict[str, str] | None = None, timeout_s: float = 120.0) -> Iterator[dict[str, Any]]:
    """`kafkagram up` on free ports (its own broker, S3 and mail sink) until ready: yields its process,
    environment, ports and how long it took to be ready; stops it with Ctrl-C (SIGINT) at the end. With
    KAFKAGRAM_BENCH_KEEP_LOG set, its log is copied there when it stops (to see what went wrong)."""
    ports = {"KAFKA_PORT": _free_port(), "S3_PORT": _free_port(), "HTTP_PORT": _free_port(),
             "WEBSOCKET_PORT": _free_port(), "STATUS_PORT": _free_port(), "SMTP_PORT": _free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, **(env_overrides or {})}
    for variable in ("KAFKA_BOOTSTRAP_SERVERS", "AWS_ENDPOINT_URL_S3", "SMTP_URL"):
        env.pop(variable, None)
    with tempfile.TemporaryDirectory(prefix="kafkagram-bench-") as directory:
        if not env.get("KAFKAGRAM_RUN_DIR"):  # its own, unless the caller chose one
            env["KAFKAGRAM_RUN_DIR"] = str(Path(directory) / "run")
        log_path = Path(directory) / "up.log"
        with log_path.open("w") as log:
            started = time.perf_counter()
            # If the bench is killed past its `finally` (kill -9), `up` gets Ctrl-C from the kernel.
            process = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "up"], env=env, text=True,
                                       stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[1],
                                       preexec_fn=die_with_parent(signal.SIGINT, os.getpid()))
            try:
                deadline = time.monotonic() + timeout_s
                while "ready in" not in log_path.read_text():
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"`kafkagram up` was not ready:\n{log_path.read_text()[-2000:]}")
                    time.sleep(0.05)
                yield {"process": process, "env": env, "ports": ports, "ready_s": time.perf_counter() - started}
            finally:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
                if os.environ.get("KAFKAGRAM_BENCH_KEEP_LOG"):
                    shutil.copyfile(log_path, os.environ["KAFKAGRAM_BENCH_KEEP_LOG"])


def up_to_ready_seconds() -> float:
    """Wall time of `kafkagram up` until it prints ready (fresh broker and S3, existing virtualenv)."""
    with running_up() as up:
        return float(up["ready_s"])


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (from /proc)."""
    found = [pid]
    for child in child_processes(pid):
        found.extend(process_tree(child))
    return found


def child_processes(pid: int) -> list[int]:
    """A process's children (from /proc; none once it is gone)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    children: list[int] = []
    for task in tasks:
        try:
            children.extend(int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except OSError:
            continue
    return children


def ended_children_cpu_seconds() -> float:
    """User + system CPU time of this process's children that have ended (and been waited for) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as response:
        snapshot: dict[str, Any] = json.load(response)
    return snapshot


def up_idle_cpu(seconds: float = IDLE_SECONDS, env_overrides: dict[str, str] | None = None,
                settle_timeout_s: float = 90.0) -> list[dict[str, Any]]:
    """CPU used by `kafkagram up` and everything it started (broker, pollers, sandboxes) while nothing
    happens: from when every poller sleeps (start-up is over) for `seconds`, from /proc."""
    with running_up(env_overrides) as up:
        port = up["ports"]["STATUS_PORT"]

        def settled() -> bool:
            mappings = [m for m in _status(port).values() if m["enabled"]]
            return all(m["asleep"] for m in mappings)

        _wait(settled, settle_timeout_s, interval=0.5)
        root = up["process"].pid
        pollers = {pid for m in _status(port).values() for pid in m["workers"]}
        before = {pid: cpu_seconds(pid) for pid in process_tree(root)}
        started = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - started
        after = {pid: cpu_seconds(pid) for pid in process_tree(root)}
        brokers = {pid for pid in after if "tansu" in cmdline(pid)}  # while the processes are there
    groups = {"kafkagram up (runtime, gateways, S3, outbox relay)": 0.0, "broker": 0.0,
              f"pollers ({len(pollers)})": 0.0, "sandboxes and others": 0.0}
    names = list(groups)
    for pid, used in after.items():
        spent = used - before.get(pid, used)  # a process started meanwhile counts from its first sight
        if pid == root:
            groups[names[0]] += spent
        elif pid in brokers:
            groups[names[1]] += spent
        elif pid in pollers:
            groups[names[2]] += spent
        else:
            groups[names[3]] += spent
    total = sum(groups.values())
    rows = [{"processes": name, "cpu_s": cpu, "percent_of_one_core": 100 * cpu / elapsed}
            for name, cpu in groups.items()]
    rows.append({"processes": f"all, over {elapsed:.0f} s (target <= 3 %)", "cpu_s": total,
                 "percent_of_one_core": 100 * total / elapsed})
    return rows


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
    except OSError:
        return ""


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
    selected = set(only) or {"kafka", "up", "http", "websocket", "media", "timeline", "large", "mix", "push"}
    broker = None
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if "kafka" in selected and not servers:
        broker = LocalBroker(port=_free_port())
        servers = broker.start()
    try:
        if "kafka" in selected and servers:
            _print_table(f"Kafka event source mapping: no-op function vs raw confluent-kafka (records/s), the run "
                         f"with the median ratio of {KAFKA_RUNS}", kafka_bench(servers))
            _print_table("Kafka hops into an idle runtime, one record at a time (ms)", hop_latency_bench(servers))
    finally:
        if broker is not None:
            broker.stop()
    if "up" in selected:
        _print_table("Start-up", [{"step": "kafkagram up -> ready", "seconds": up_to_ready_seconds()}])
        _print_table(f"kafkagram up doing nothing: CPU over {IDLE_SECONDS:.0f} s once every poller sleeps",
                     up_idle_cpu())
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
    if "large" in selected:
        from kafkagram_local.bench_large import run_large_bench

        _print_table("A large account (50,000 followers) posts: fan-out writes and a follower's first page",
                     run_large_bench())
    if "websocket" in selected:
        from emulator.websocket.bench import run_ws_bench

        _print_table("WebSocket: 500 open connections; post_to_connection to client receipt",
                     _websocket_rows(run_ws_bench()))
    if selected & {"mix", "push"}:  # one stack, seeded once, for both
        from kafkagram_local.bench_social import print_social_tables, run_social_bench

        print_social_tables(run_social_bench({"mix", "push"} & selected))
