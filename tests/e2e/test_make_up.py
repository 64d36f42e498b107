"""`kafkagram up` (what `make up` runs) on a fresh database: every service comes up, a record produced
with a plain Kafka client reaches the recorder function, shows in the status, and Ctrl-C stops it all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka import Producer

from kafkagram.db import connect, transaction
from kafkagram.events import new_event
from kafkagram.outbox import enqueue, enqueue_many
from kafkagram_local.bench import process_tree
from tests.support.leftovers import describe
from tests.support.repo import REPO
from tests.support.services import free_port
from tests.support.up import read_log, status, up_environment
from tests.support.waiting import wait_for


@pytest.mark.slow
def test_up_runs_the_template_and_stops_on_ctrl_c(fresh_database, tmp_path):
    ports, env = up_environment(fresh_database, tmp_path)
    log = (tmp_path / "up.log").open("w+")
    up = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "up"], cwd=REPO, env=env,
                          stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: "ready in" in read_log(log), timeout=90,
                 message="`up` to print ready")
        output = read_log(log)
        for service in ("PostgreSQL", "Redis", "Kafka", "S3", "runtime status"):
            assert service in output, f"{service} line missing:\n{output}"
        assert f"127.0.0.1:{ports['kafka']}" in output
        assert "kafkagram-local-recorder <- user-events" in output

        producer = Producer({"bootstrap.servers": f"127.0.0.1:{ports['kafka']}"})
        producer.produce("user-events", key=b"u1", value=b'{"hello": "world"}')
        assert producer.flush(10) == 0
        figures = wait_for(lambda: status(ports["status"])["RecorderFunction.UserEvents"]["invocations"] and
                           status(ports["status"])["RecorderFunction.UserEvents"], timeout=90,
                           message="an invocation")
        assert figures["errors"] == 0
        database = connect(fresh_database)
        rows = wait_for(lambda: database.run("SELECT convert_from(value, 'UTF8') FROM received_events"),
                        message="the recorded row")
        database.close()
        assert rows == [['{"hello": "world"}']]
        # A state change committed with its event in the outbox reaches Kafka through the relay,
        # and the recorder stores it like any record.
        database = connect(fresh_database)
        with transaction(database):
            enqueue(database, new_event("user-registered", {"user_id": "1001", "username": "ada",
                                                            "display_name": "Ada"}, actor_id=1001))
        relayed = wait_for(lambda: [row for row in database.run(
            "SELECT convert_from(value, 'UTF8') FROM received_events") if "user-registered" in row[0]],
            timeout=90, message="the relayed event")
        database.close()
        assert json.loads(relayed[0][0])["data"]["username"] == "ada"
        table = subprocess.run([sys.executable, "-m", "kafkagram_local.cli", "--status-port", str(ports["status"]),
                                "status"], cwd=REPO, capture_output=True, text=True, timeout=30).stdout
        assert "RecorderFunction.UserEvents" in table and "user-events-" in table
    finally:
        up.send_signal(signal.SIGINT)
        code = up.wait(timeout=60)
    assert code == 0, read_log(log)
    assert "stopping" in read_log(log)




@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("DATABASE_URL", "postgresql://postgres@127.0.0.1:{port}/kafkagram", "PostgreSQL is not reachable at"),
    ("REDIS_URL", "redis://127.0.0.1:{port}/0", "Redis is not reachable at"),
    ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:{port}", "Kafka is not reachable at"),
])
def test_unreachable_service_fails_fast_with_one_line(variable, value, expected):
    url = value.format(port=free_port())
    env = {**os.environ, variable: url, "KAFKA_PORT": str(free_port()), "S3_PORT": str(free_port()),
           "STATUS_PORT": str(free_port()), "HTTP_PORT": str(free_port()), "WEBSOCKET_PORT": str(free_port())}
    result = subprocess.run([sys.executable, "-m", "kafkagram_local.cli", "up"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0] and url in lines[0]
    assert "start it" in lines[0]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.slow
def test_up_again_after_a_crash(fresh_database, tmp_path):
    ports, env = up_environment(fresh_database, tmp_path)
    for attempt in ("first", "after kill -9"):
        log = (tmp_path / f"{attempt}.log").open("w+")
        up = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "up"], cwd=REPO, env=env,
                              stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for(lambda log=log, up=up: "ready in" in read_log(log) or up.poll() is not None, timeout=90,
                     message=f"`up` ({attempt}) to print ready")
            assert "ready in" in read_log(log), read_log(log)
            assert status(ports["status"])["RecorderFunction.UserEvents"]["workers"]
            started = [pid for pid in process_tree(up.pid) if pid != up.pid]  # pollers, sandboxes, servers
        finally:
            up.kill() if attempt == "first" else up.send_signal(signal.SIGINT)
            up.wait(timeout=60)
        # However `up` ends (kill -9 the first time), nothing it started outlives it.
        assert started
        wait_for(lambda started=started: not [pid for pid in started if alive(pid)], timeout=60,
                 message=f"the processes of `up` ({attempt}) to exit: still "
                         f"{[describe(pid) for pid in started if alive(pid)]}")


@pytest.mark.slow
def test_ctrl_c_drains_what_is_under_way_before_stopping(fresh_database, tmp_path):
    """Events committed just before Ctrl-C are published and handled before `up` exits; writes that
    arrive meanwhile get 503 (tests/integration/runtime/test_http_api.py checks that answer)."""
    _ports, env = up_environment(fresh_database, tmp_path)
    log = (tmp_path / "up.log").open("w+")
    up = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "up"], cwd=REPO, env=env,
                          stdout=log, stderr=subprocess.STDOUT, text=True)
    events = [new_event("user-registered", {"user_id": str(2000 + n), "username": f"drain{n}",
                                            "display_name": f"Drain {n}"}, actor_id=2000 + n) for n in range(300)]
    database = connect(fresh_database)
    try:
        wait_for(lambda: "ready in" in read_log(log) or up.poll() is not None, timeout=90, message="ready")
        assert "ready in" in read_log(log), read_log(log)
        with transaction(database):
            enqueue_many(database, events)
        up.send_signal(signal.SIGINT)  # at once: the relay has not published them yet
        code = up.wait(timeout=90)
        output = read_log(log)
        assert code == 0, output
        assert "drained: every committed event is published and every function has caught up" in output, output
        recorded = database.run("SELECT count(*) FROM received_events WHERE convert_from(value, 'UTF8') "
                                "LIKE '%user-registered%'")[0][0]
        assert recorded == len(events)
    finally:
        database.close()
        if up.poll() is None:
            up.kill()
            up.wait(timeout=30)
