"""Processes a test run leaves behind: every process the run starts inherits a marker in its
environment, so one that outlives the run is found even after it was re-parented to init."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from multiprocessing import resource_tracker
from pathlib import Path

RUN_MARKER_ENV = "KAFKAGRAM_TEST_RUN"
# Orphaned pollers notice their runtime is gone within a second and stop within their deadline.
EXIT_GRACE_S = 10.0


def mark_run() -> str:
    """Mark this process's environment (inherited by everything it starts); returns the marker."""
    marker = f"{os.getpid()}-{time.time_ns()}"
    os.environ[RUN_MARKER_ENV] = marker
    return marker


def _marked(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:  # gone meanwhile, or not ours to read
        return False


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def processes_left(marker: str) -> list[int]:
    """Live processes carrying `marker`, other than this one."""
    wanted = f"{RUN_MARKER_ENV}={marker}".encode()
    # multiprocessing's resource tracker belongs to this process and ends when it does.
    ours = {os.getpid(), getattr(resource_tracker._resource_tracker, "_pid", None)}
    return [pid for pid in (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
            if pid not in ours and _marked(pid, wanted) and alive(pid)]


def describe(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        command = "?"
    return f"{pid} {command.strip()[:160]}"


def reap_leftovers(marker: str, grace_s: float = EXIT_GRACE_S) -> list[str]:
    """Wait up to `grace_s` for the run's processes to exit; kill those that do not and describe them."""
    deadline = time.monotonic() + grace_s
    left = processes_left(marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = processes_left(marker)
    described = [describe(pid) for pid in left]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return described
