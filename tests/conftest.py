"""Session-wide real services: the Kafka-compatible broker and Redis (PostgreSQL and Redis run on the
machine; the broker is started here unless KAFKA_BOOTSTRAP_SERVERS points at one)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis

from emulator.kafka.broker import LocalBroker

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
POSTGRES_SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
# Databases are named per test run, so two runs on one machine (a developer's and CI's) never drop
# each other's database; each run drops its own at the end.
RUN_ID = str(os.getpid())
_created_databases: list[str] = []


def create_test_database(base_name: str, *, migrated: bool = True) -> str:
    """A new database `<base_name>_<run>` (migrated unless told otherwise); returns its URL."""
    from kafkagram.db import connect
    from kafkagram.migrations import migrate

    name = f"{base_name}_{RUN_ID}"
    admin = connect(f"{POSTGRES_SERVER_URL}/postgres")
    try:
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.run(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    if name not in _created_databases:
        _created_databases.append(name)
    url = f"{POSTGRES_SERVER_URL}/{name}"
    if migrated:
        connection = connect(url)
        try:
            migrate(connection)
        finally:
            connection.close()
    return url


S3_TEST_CREDENTIALS = {"test": "test"}


@contextmanager
def local_s3(bucket: str) -> Iterator[str]:
    """The S3 emulator (with its POST-policy front) on a free port, holding `bucket`; yields its URL."""
    import boto3

    from emulator.s3.server import S3Emulator

    with S3Emulator(port=0, credentials=S3_TEST_CREDENTIALS) as emulator:
        boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key="test").create_bucket(Bucket=bucket)
        yield emulator.endpoint_url


def s3_client(endpoint_url: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> Iterator[None]:
    yield
    from kafkagram.db import connect

    admin = connect(f"{POSTGRES_SERVER_URL}/postgres")
    try:
        for name in _created_databases:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@pytest.fixture(scope="session")
def database_url() -> str:
    """The application's database for tests: fresh and migrated, once per session."""
    return create_test_database(os.environ.get("KAFKAGRAM_TEST_DATABASE", "kafkagram_test"))


@pytest.fixture
def db(database_url: str) -> Iterator[Any]:
    """A connection of one test (autocommit until the test says BEGIN); tests truncate what they touch."""
    from kafkagram.db import connect

    connection = connect(database_url)
    yield connection
    connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    broker = LocalBroker(port=free_port())
    yield broker.start()
    broker.stop()


@pytest.fixture(scope="session")
def kafka_session_timeout_ms() -> int:
    # Tansu (started above) accepts short sessions, so group joins take 1 s instead of 3 s;
    # a real Kafka broker requires at least 6000 ms.
    return 6000 if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else 2000


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    yield client
    client.close()


@pytest.fixture
def unique() -> str:
    """A short unique name for topics, groups and keys of one test."""
    return uuid.uuid4().hex[:10]
