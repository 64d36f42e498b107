"""PostgreSQL's next_id() makes ids of the same layout as the Python generator, and allocates shards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kafkagram.ids import DATABASE_SHARD_ID, MAX_SHARD_ID, IdGenerator, allocate_shard_id, shard_of, timestamp_of


def test_postgres_next_id_has_the_same_layout(db):
    before = datetime.now(UTC)
    # At most 1,024 ids: the sequence wraps there, and one statement can make more than that in one
    # millisecond, which the migration documents as beyond its guarantee (3,000 failed now and then).
    ids = [row[0] for row in db.run("SELECT next_id() FROM generate_series(1, 1024)")]
    after = datetime.now(UTC)
    assert len(set(ids)) == len(ids)
    assert {shard_of(id_) for id_ in ids} == {DATABASE_SHARD_ID}
    # Same epoch as Python's: the decoded time is now (the two clocks are the same machine's).
    assert before - timedelta(seconds=1) <= timestamp_of(min(ids)) <= timestamp_of(max(ids)) <= after


def test_postgres_next_id_is_the_outbox_default(db):
    db.run("TRUNCATE outbox")
    (id_,) = db.run("INSERT INTO outbox (topic, key, payload) VALUES ('t', '1', '{}') RETURNING id")[0]
    db.run("TRUNCATE outbox")
    assert shard_of(id_) == DATABASE_SHARD_ID
    assert abs(timestamp_of(id_) - datetime.now(UTC)) < timedelta(seconds=5)


def test_shards_are_allocated_from_postgres(db):
    first, second = allocate_shard_id(db), allocate_shard_id(db)
    assert 1 <= first <= MAX_SHARD_ID and 1 <= second <= MAX_SHARD_ID
    assert first != second
    IdGenerator(second).next_id()
