"""Where `kafkagram up` keeps its data (kafkagram_local.cli.RUN_DIR): KAFKAGRAM_RUN_DIR when set; the
repository's .run when unset or set empty (an empty value once put the broker log and S3 files in the
working directory, where they were committed by mistake)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repo import REPO


def _run_dir(value: str | None) -> Path:
    env = {k: v for k, v in os.environ.items() if k != "KAFKAGRAM_RUN_DIR"}
    if value is not None:
        env["KAFKAGRAM_RUN_DIR"] = value
    printed = subprocess.run([sys.executable, "-c", "from kafkagram_local.cli import RUN_DIR; print(RUN_DIR)"],
                             env=env, cwd="/", capture_output=True, text=True, check=True)
    return Path(printed.stdout.strip())


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_the_default_is_the_repositorys_run_directory(value: str | None) -> None:
    assert _run_dir(value) == REPO / ".run"


def test_a_chosen_directory_is_used(tmp_path: Path) -> None:
    assert _run_dir(str(tmp_path / "run")) == tmp_path / "run"
