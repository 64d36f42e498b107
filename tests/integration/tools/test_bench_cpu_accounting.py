"""The 401 baseline's CPU columns (kafkagram_local.bench_mix.cpu_per_request): CPU spent in the block by
the `up` process, by its children titled "sandbox", and by this process's children that ended in it,
each divided by the requests; and the mix's table of every process by its title (cpu_by_group). Stand-ins
burn a known amount of CPU where each column looks."""

from __future__ import annotations

import subprocess
import sys

from kafkagram_local.bench_mix import cpu_by_group, cpu_columns, cpu_per_request

BURN = "sum(range(3_000_000))"  # about 0.1 s of CPU: several of /proc's 10 ms ticks
# Burns once for each line it reads, then says so.
WORKER = f"import sys\nfor _ in sys.stdin:\n    {BURN}\n    print('done', flush=True)\n"
# The `up` stand-in: starts a child whose command line says "sandbox"; for each line, has it burn, burns too.
UP = f"""
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", {WORKER!r}, "sandbox"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
for _ in sys.stdin:
    child.stdin.write("go\\n"); child.stdin.flush()
    {BURN}
    child.stdout.readline()
    print("done", flush=True)
"""


def test_each_column_counts_its_own_processes() -> None:
    up = subprocess.Popen([sys.executable, "-c", UP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert up.stdin is not None and up.stdout is not None
    try:
        up.stdin.write("warm\n")  # the child is running before the block looks for it
        up.stdin.flush()
        assert up.stdout.readline() == "done\n"
        with cpu_per_request(up.pid, requests=10) as cpu:
            up.stdin.write("go\n")
            up.stdin.flush()
            assert up.stdout.readline() == "done\n"
            subprocess.run([sys.executable, "-c", BURN], check=True)  # the load generator's stand-in
    finally:
        up.stdin.close()
        up.wait(timeout=30)
    # Each burned at least ~0.05 s: 5,000 µs over 10 requests; none is counted in another's column
    # beyond its own share (a column that took all three would be 3 times as large).
    up_us, sandboxes_us, generator_us = (cpu["up process (gateways) CPU µs/req"], cpu["gateway sandboxes CPU µs/req"],
                                         cpu["load generator CPU µs/req"])
    assert min(up_us, sandboxes_us, generator_us) >= 1_000
    total = up_us + sandboxes_us + generator_us
    assert max(up_us, sandboxes_us, generator_us) < 0.8 * total


# A process titled like one of the stack's (setproctitle, as the runtime titles its processes) that
# burns once for each line it reads.
TITLED = f"import setproctitle, sys\nsetproctitle.setproctitle(sys.argv[1])\n{WORKER}"


def test_the_mix_table_counts_each_group_of_processes_by_its_title() -> None:
    titles = {"API sandboxes": "kafkagram: sandbox kafkagram-local-api", "pollers": "kafkagram: poller Fn.Topic"}
    stand_ins = {group: subprocess.Popen([sys.executable, "-c", TITLED, title], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True) for group, title in titles.items()}
    try:
        with cpu_by_group() as used:
            for process in stand_ins.values():
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write("go\n")
                process.stdin.flush()
                assert process.stdout.readline() == "done\n"
            subprocess.run([sys.executable, "-c", BURN], check=True)  # the load generator's stand-in
    finally:
        for process in stand_ins.values():
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=30)
    cpu = cpu_columns(used, answered=10)
    counted = {group: cpu[f"{group} µs/req"] for group in ("API sandboxes", "pollers", "load generator")}
    assert min(counted.values()) >= 1_000, counted  # each burned about 0.1 s: 10,000 µs over 10 requests
    assert max(counted.values()) < 0.8 * sum(counted.values()), counted  # none took another's
    assert cpu["fan-out sandboxes µs/req"] < 1_000  # nothing so titled burned
    assert cpu["all, CPU µs/req"] >= sum(counted.values()) - 1 and cpu["cores busy"] > 0  # - 1: float sums
