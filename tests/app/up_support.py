"""Running `kafkagram up` from tests: free ports, a fresh database, its own run directory."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import create_test_database, free_port

REPO = Path(__file__).resolve().parents[2]
TEST_DATABASE = "kafkagram_up_test"


@pytest.fixture
def fresh_database() -> str:
    # Not migrated: `kafkagram up` creates and migrates it, as on a fresh machine.
    return create_test_database(TEST_DATABASE, migrated=False)


def up_environment(database_url: str, tmp_path: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Free ports, a fresh database and our own run directory; the broker and S3 started by `up`."""
    ports = {name: free_port() for name in ("kafka", "s3", "http", "ws", "status")}
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_PORT": str(ports["kafka"]),
           "S3_PORT": str(ports["s3"]), "HTTP_PORT": str(ports["http"]), "WEBSOCKET_PORT": str(ports["ws"]),
           "STATUS_PORT": str(ports["status"]), "KAFKAGRAM_RUN_DIR": str(tmp_path / "run")}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.pop("AWS_ENDPOINT_URL_S3", None)
    return ports, env


def status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as response:
        return json.load(response)



def read_log(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()
