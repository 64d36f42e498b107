"""The runtime's processes: named after what they serve, and stopped promptly whatever happened to
the broker (a poller that waits on a dead broker must not hold `make up`'s Ctrl-C)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from emulator.kafka.broker import LocalBroker
from emulator.process_titles import TITLE_PREFIX_ENV
from tests.support.kafka import Probe, create_topic, kafka_event, produce, running, write_template
from tests.support.leftovers import RUN_MARKER_ENV, processes_left, reap_leftovers
from tests.support.services import free_port
from tests.support.waiting import wait_for

SIGTERM_DEADLINE_S = 5.0


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


def children_of(pid: int) -> list[int]:
    """Children started by any thread of `pid` (each thread lists its own)."""
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def own_broker(tmp_path: Path) -> LocalBroker:
    """A broker of this test only: the test kills it."""
    broker = LocalBroker(port=free_port(), log_path=tmp_path / "broker.log")
    broker.start()
    yield broker
    broker.stop()


def test_pollers_and_sandboxes_are_named_after_what_they_serve(tmp_path, kafka_bootstrap, kafka_session_timeout_ms,
                                                                 redis_client, unique, monkeypatch):
    monkeypatch.setenv(TITLE_PREFIX_ENV, "kafkagram-test")
    topic = f"t-{unique}"
    create_topic(kafka_bootstrap, topic)
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": kafka_event(topic)}}}, prefix=unique)
    with running(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
        [poller] = wait_for(runtime.poller_pids, timeout=30, message="the poller")
        wait_for(lambda: command_line(poller) == "kafkagram-test: poller Probe.Stream", timeout=10,
                 message=f"the poller's title (now {command_line(poller)!r})")
        produce(kafka_bootstrap, topic, [{"n": 1}])
        wait_for(lambda: Probe(redis_client, unique).invocations(), timeout=30, message="an invocation")
        titles = {command_line(child) for child in children_of(poller)}
        assert any(title.startswith("kafkagram-test: sandbox ") and "Probe" in title for title in titles), titles


def test_sigterm_stops_a_poller_within_five_seconds_when_its_broker_is_gone(
        tmp_path, own_broker, kafka_session_timeout_ms, unique):
    topic = f"t-{unique}"
    create_topic(own_broker.bootstrap_servers, topic)
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": kafka_event(topic)}}}, prefix=unique)
    with running(template, own_broker.bootstrap_servers, kafka_session_timeout_ms) as runtime:
        [poller] = wait_for(runtime.poller_pids, timeout=30, message="the poller")
        wait_for(lambda: "poller" in command_line(poller), timeout=10, message="the poller's start-up")
        assert own_broker.process is not None
        own_broker.process.kill()
        own_broker.process.wait(timeout=10)
        sent = time.monotonic()
        os.kill(poller, signal.SIGTERM)
        wait_for(lambda: not alive(poller), timeout=SIGTERM_DEADLINE_S + 5, message="the poller's exit")
        took = time.monotonic() - sent
    assert took <= SIGTERM_DEADLINE_S, f"the poller took {took:.1f} s to stop"


def test_a_process_the_run_left_behind_is_found_and_killed(unique):
    """The check at the end of every test session (tests/conftest.py), on a marker of its own."""
    marker = f"probe-{unique}"
    # Started through a shell that exits at once: the sleep is re-parented, as an orphaned poller is.
    subprocess.run(["sh", "-c", "sleep 60 >/dev/null 2>&1 &"], env={**os.environ, RUN_MARKER_ENV: marker},
                   check=True)
    [orphan] = wait_for(lambda: processes_left(marker), timeout=5, message="the orphan")
    assert os.getppid() != orphan and "sleep 60" in command_line(orphan)
    left = reap_leftovers(marker, grace_s=0.2)
    assert left == [f"{orphan} sleep 60"]
    wait_for(lambda: not alive(orphan), timeout=5, message="the orphan's end")
    assert processes_left(marker) == []
