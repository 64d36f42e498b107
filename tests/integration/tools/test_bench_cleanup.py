"""`kafkagram bench` starts whole `kafkagram up` stacks; ended by SIGTERM or killed outright, it leaves
none of them behind (SIGTERM runs its `finally` blocks; after kill -9 the kernel gives `up` Ctrl-C)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from kafkagram_local.bench import cmdline, process_tree
from tests.support.leftovers import alive
from tests.support.waiting import wait_for


def _up_with_its_pollers(bench_pid: int) -> int | None:
    """The bench's `kafkagram up` once it has started its pollers, or None."""
    for pid in process_tree(bench_pid):
        if "kafkagram: up" in cmdline(pid) and any("poller" in cmdline(child) for child in process_tree(pid)):
            return pid
    return None


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill -9"])
def test_a_stopped_bench_leaves_no_process_behind(stop_signal: int) -> None:
    bench = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "bench", "--only", "up"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started: list[int] = []
    try:
        up = wait_for(lambda: _up_with_its_pollers(bench.pid), timeout=120, message="the bench's `kafkagram up`")
        started = [pid for pid in process_tree(bench.pid) if pid != bench.pid]
        assert up in started and len(started) > 5
        bench.send_signal(stop_signal)
        bench.wait(timeout=60)
        wait_for(lambda: not [pid for pid in started if alive(pid)], timeout=90,
                 message=f"the processes the bench started to end: {[cmdline(pid) for pid in started if alive(pid)]}")
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
        for pid in started:
            if alive(pid):
                subprocess.run(["kill", "-9", str(pid)], check=False)
