"""Session-wide real services: the Kafka-compatible broker and Redis (PostgreSQL and Redis run on the
machine; the broker is started here unless KAFKA_BOOTSTRAP_SERVERS points at one)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
import redis

from emulator.kafka.broker import LocalBroker

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


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
