"""Fixtures every tier may use, and the tiers themselves.

Tests are grouped by what they cost: `tests/unit` (no services: no network, no processes; seconds),
`tests/integration` (real PostgreSQL, Redis, the Kafka-compatible broker, the S3 emulator, the local
runtime's gateways) and `tests/e2e` (`kafkagram up` as a subprocess, the browser). Each test gets the
marker of its tier, so `pytest -m unit` and `pytest tests/unit` are the same; helpers live in
tests/support. PostgreSQL and Redis run on the machine; the broker is started here unless
KAFKA_BOOTSTRAP_SERVERS points at one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from emulator.cfn_yaml import load_template
from emulator.kafka.broker import LocalBroker
from emulator.template import Template, parse_template
from tests.support.leftovers import mark_run, reap_leftovers
from tests.support.repo import TEMPLATE
from tests.support.services import REDIS_TEST_URL, create_test_database, drop_test_databases, free_port

TIERS = ("unit", "integration", "e2e")
_TESTS = Path(__file__).resolve().parent
_RUN_MARKER = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    # Before anything starts a process: each one inherits the mark, so none can outlive the run unseen.
    config.stash[_RUN_MARKER] = mark_run()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Whatever a test starts, it stops: a process of this run still alive fails the run (and is killed)."""
    left = reap_leftovers(session.config.stash[_RUN_MARKER])
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("processes this run started are still alive (killed now):", red=True)
            for line in left:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, and run the cheapest tier first: a broken unit test shows in seconds."""
    tiers = {}
    for item in items:
        tier = Path(str(item.path)).resolve().relative_to(_TESTS).parts[0]
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.nodeid}: every test belongs under tests/{{{','.join(TIERS)}}}")
        item.add_marker(tier)
        tiers[item.nodeid] = TIERS.index(tier)
    items.sort(key=lambda item: tiers[item.nodeid])  # stable: each tier keeps its own order


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> Iterator[None]:
    yield
    drop_test_databases()


@pytest.fixture(scope="session")
def database_url() -> str:
    """The application's database for tests: fresh and migrated, once per session."""
    return create_test_database(os.environ.get("KAFKAGRAM_TEST_DATABASE", "kafkagram_test"))


@pytest.fixture
def db(database_url: str) -> Iterator[Any]:
    """A connection of one test (autocommit until the test opens a transaction); tests truncate what they touch."""
    from kafkagram.db import connect

    connection = connect(database_url)
    yield connection
    connection.close()


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


@pytest.fixture(scope="session")
def template_document() -> dict[str, Any]:
    """template.yaml as written (intrinsics unresolved, long form)."""
    return load_template(TEMPLATE)


@pytest.fixture(scope="session")
def local_template() -> Template:
    """template.yaml as the local runtime reads it: defaults only, no overrides."""
    return parse_template(TEMPLATE)
