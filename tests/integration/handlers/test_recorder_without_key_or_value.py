"""The recorder stores a record without a key or a value (a tombstone) as NULL, whether the event leaves
the field out (AWS's shape, what the local runtime sends) or carries null (Powertools' test events)."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import recorder
from kafkagram.db import connect
from tests.support.invocations import invoke, kafka_record


@pytest.fixture
def recording(sandbox, database_url):
    yield
    recorder.database.discard()  # its connection was made for this test's environment


def test_records_without_key_or_value_are_stored_as_null(recording, database_url, unique):
    topic = f"no-key-{unique}"
    keyed = kafka_record(b'{"n": 1}', topic=topic)
    keyless = keyed._replace(offset=keyed.offset + 1, key=None)
    tombstone = keyed._replace(offset=keyed.offset + 2, value=None)
    assert invoke(recorder.handler, keyed, keyless, tombstone) == {"received": 3, "new": 3}
    # The same records with null fields (another producer of events, or an older runtime).
    nulls: list[dict[str, Any]] = []

    def with_nulls(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["records"][f"{topic}-0"]:
            record.setdefault("key", None)
            record.setdefault("value", None)
            nulls.append(record)
        return recorder.handler(event, context)

    with_nulls.__module__ = recorder.handler.__module__
    later = [r._replace(offset=r.offset + 10) for r in (keyless, tombstone)]
    assert invoke(with_nulls, *later) == {"received": 2, "new": 2}
    assert all("key" in r and "value" in r for r in nulls)

    conn = connect(database_url)
    try:
        rows = conn.run('SELECT "offset", key, value FROM received_events WHERE topic = :t ORDER BY "offset"', t=topic)
    finally:
        conn.close()
    first = keyed.offset
    assert rows == [[first, b"poison", b'{"n": 1}'], [first + 1, None, b'{"n": 1}'], [first + 2, b"poison", None],
                    [first + 11, None, b'{"n": 1}'], [first + 12, b"poison", None]]
