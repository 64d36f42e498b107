"""Child processes that end with the process that started them, however it ends."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent(stop_signal: int, parent_pid: int) -> Callable[[], None] | None:
    """A `subprocess.Popen` preexec_fn (or a call a child makes first thing): the kernel sends the child
    `stop_signal` when `parent_pid` (the process starting it; strictly, its starting thread) dies, even
    by `kill -9`. Linux only; None elsewhere. As a preexec_fn it runs after a user switch, which would
    otherwise clear the setting."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork: the child only calls it

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, stop_signal, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before the line above: nobody would tell us
            os.kill(os.getpid(), stop_signal)

    return preexec
