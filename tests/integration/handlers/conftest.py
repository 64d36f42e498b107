"""The handlers' world: a migrated database of their own, the S3 emulator with the media bucket, and
the environment a sandbox gets from template.yaml. Invocation helpers are in tests/support."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers import fan_out, follow_graph, notify, notify_email, process_upload, publish_post
from kafkagram.clients import Clients
from kafkagram.config import get_settings
from kafkagram_local.services import SmtpSink
from tests.support.services import REDIS_TEST_URL, create_test_database
from tests.support.uploads import s3_environment

# Its own database, so these tests never share rows with the layer's.
HANDLERS_DATABASE = "kafkagram_handlers_test"


@pytest.fixture(scope="session")
def database_url() -> str:
    return create_test_database(HANDLERS_DATABASE)


@pytest.fixture
def sandbox(database_url: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The environment template.yaml gives a function; handlers read it through get_settings()."""
    for name, value in {"DATABASE_URL": database_url, "POWERTOOLS_SERVICE_NAME": "kafkagram",
                        **s3_environment(s3_endpoint)}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
    for handler in (process_upload, publish_post):  # their connections were made for this environment
        handler.clients.close()


@pytest.fixture
def clients(database_url: str, unique: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    """What the timeline and notification handlers use, on the test database and under this test's own
    Redis key prefix."""
    made = Clients(database_url, REDIS_TEST_URL, key_prefix=f"test:{unique}:")
    for handler in (fan_out, follow_graph, notify):
        monkeypatch.setattr(handler, "clients", made)
    yield made
    for key in made.redis.scan_iter(match=f"{made.key_prefix}*", count=1000):
        made.redis.delete(key)
    made.close()


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path / "mail") as started:
        yield started


@pytest.fixture
def mailer(sandbox: pytest.MonkeyPatch, database_url: str, sink: SmtpSink) -> Iterator[pytest.MonkeyPatch]:
    """The email function's environment (and notify's): its database, SMTP_URL at the sink, the web app's
    origin; a fresh connection per test."""
    sandbox.setenv("SMTP_URL", sink.url)
    sandbox.setenv("WEB_ORIGIN", "http://127.0.0.1:3999")
    get_settings.cache_clear()
    made = Clients(database_url)
    sandbox.setattr(notify_email, "clients", made)
    sandbox.setattr(notify, "clients", made)
    yield sandbox
    made.close()
    get_settings.cache_clear()
