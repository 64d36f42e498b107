"""The real services the tests use: PostgreSQL and Redis (running on the machine), the S3 emulator
(started here), and free ports for whatever a test starts itself."""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kafkagram_local.services import drop_database, recreate_database

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
POSTGRES_SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
# Databases are named per test run, so two runs on one machine (a developer's and CI's) never drop
# each other's database; each run drops its own at the end (tests/conftest.py).
RUN_ID = str(os.getpid())
S3_TEST_CREDENTIALS = {"test": "test"}
_created_databases: list[str] = []


def create_test_database(base_name: str, *, migrated: bool = True) -> str:
    """A new database `<base_name>_<run>` (migrated unless told otherwise); returns its URL."""
    from kafkagram.db import connect
    from kafkagram.migrations import migrate

    name = f"{base_name}_{RUN_ID}"
    url = recreate_database(POSTGRES_SERVER_URL, name)
    if name not in _created_databases:
        _created_databases.append(name)
    if migrated:
        connection = connect(url)
        try:
            migrate(connection)
        finally:
            connection.close()
    return url


def drop_test_databases() -> None:
    """Drop every database this run created."""
    for name in _created_databases:
        drop_database(POSTGRES_SERVER_URL, name)


@contextmanager
def local_s3(bucket: str) -> Iterator[str]:
    """The S3 emulator (with its POST-policy front) on a free port, holding `bucket`; yields its URL."""
    from emulator.s3.server import S3Emulator

    with S3Emulator(port=0, credentials=S3_TEST_CREDENTIALS) as emulator:
        s3_client(emulator.endpoint_url).create_bucket(Bucket=bucket)
        yield emulator.endpoint_url


def s3_client(endpoint_url: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def free_port() -> int:
    """A port nothing listens on, below the kernel's ephemeral range: a port the kernel handed out (bind
    to 0) can be taken again by the next outgoing connection (a client of the broker or PostgreSQL in
    the process under test) before that process binds it, which failed `up` with "address in use"."""
    low, _high = _ephemeral_range()
    for _ in range(200):
        port = random.randrange(max(1024, low - 12_000), low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default
