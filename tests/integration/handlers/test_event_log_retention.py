"""The scheduled retention function (handlers/event_log_retention.py, AWS's home for what `make up`
does from a thread): one invocation drops events and processed markers past the retention window,
reading the window from EVENT_LOG_RETENTION_DAYS. A database of its own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.context import LambdaContext
from handlers import event_log_retention
from kafkagram.config import get_settings
from kafkagram.db import connect
from tests.support.services import create_test_database


@pytest.fixture
def retention_db(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    url = create_test_database("kafkagram_retention_test")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EVENT_LOG_RETENTION_DAYS", "2")
    get_settings.cache_clear()
    connection = connect(url)
    yield connection
    connection.close()
    event_log_retention.database.close()
    get_settings.cache_clear()


def test_one_invocation_prunes_to_the_configured_window(retention_db):
    retention_db.run("INSERT INTO outbox (topic, key, payload, published_at) VALUES "
                     "('post-events', 'k', '{}', now() - interval '3 days'), "
                     "('post-events', 'k', '{}', now() - interval '1 day'), ('post-events', 'k', '{}', NULL)")
    retention_db.run("INSERT INTO processed_events (consumer, event_id, processed_at) VALUES "
                     "('notify', 'a', now() - interval '3 days'), ('notify', 'b', now())")
    context = LambdaContext("kafkagram-test-event-log-retention", "$LATEST",
                            "arn:aws:lambda:us-east-1:000000000000:function:kafkagram-test-event-log-retention",
                            "128", str(uuid.uuid4()), "/aws/lambda/retention", "test",
                            int((time.time() + 60) * 1000))
    assert event_log_retention.handler({}, context) == {"events": 1, "processed_markers": 1}
    assert retention_db.run("SELECT count(*) FROM outbox")[0][0] == 2
    assert retention_db.run("SELECT event_id FROM processed_events") == [["b"]]
