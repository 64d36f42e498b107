"""Process titles: `ps` shows what each runtime process serves (`kafkagram: poller FanOut.PostEvents`),
not a row of identical `spawn_main` command lines."""

from __future__ import annotations

import os

import setproctitle

# The program that runs the runtime names itself here; spawned processes inherit the environment.
TITLE_PREFIX_ENV = "EMULATOR_PROCESS_TITLE"
DEFAULT_PREFIX = "emulator"


def set_process_title(role: str) -> None:
    """Title this process `<prefix>: <role>`, e.g. `kafkagram: sandbox kafkagram-api`."""
    setproctitle.setproctitle(f"{os.environ.get(TITLE_PREFIX_ENV, DEFAULT_PREFIX)}: {role}")
