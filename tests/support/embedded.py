"""The embedded PostgreSQL and Redis of `kafkagram up` (kafkagram_local/embedded.py) in tests: a run
directory they can use, and their processes."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kafkagram_local.embedded import EmbeddedPostgres, EmbeddedRedis


@contextmanager
def enterable_run_dir() -> Iterator[Path]:
    """A run directory (not yet created) that PostgreSQL can reach: as root it runs as `nobody`, who
    cannot enter pytest's tmp_path (/tmp/pytest-of-root is 0700); removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="kafkagram-embedded-"))
    parent.chmod(0o711)
    try:
        yield parent / "run"
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def embedded_processes(run_dir: Path) -> list[int]:
    """Live embedded servers (with their own child processes) and keepers started with KAFKAGRAM_RUN_DIR
    `run_dir` in their environment (by `kafkagram up`), or servers working in it (their data directory)."""
    wanted = f"KAFKAGRAM_RUN_DIR={run_dir}".encode()
    binaries = {str(EmbeddedPostgres.binary_path().resolve()), str(EmbeddedRedis.binary_path().resolve())}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            executable = os.readlink(entry / "exe")
            command = (entry / "cmdline").read_bytes()
            directory = os.readlink(entry / "cwd")
            environment = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # gone meanwhile
        # A keeper is `python -m kafkagram_local.keeper` until it titles itself `<prefix>: <name> keeper`.
        keeper = b"kafkagram_local.keeper" in command or command.rstrip(b"\0").endswith(b" keeper")
        ours = executable in binaries or keeper
        if state != "Z" and ours and (wanted in environment or Path(directory).is_relative_to(run_dir)):
            found.append(int(entry.name))
    return found
