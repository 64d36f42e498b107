"""64-bit time-ordered ids made in Python: layout, ordering, clock trouble, shard bounds (the same layout
from PostgreSQL's next_id() is checked in tests/integration/layer/test_ids_in_postgres.py)."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest

from kafkagram.ids import (
    EPOCH_MS,
    MAX_SHARD_ID,
    SEQUENCE_MASK,
    IdGenerator,
    compose_id,
    min_id_at,
    sequence_of,
    shard_of,
    timestamp_of,
    unix_ms_of,
)

T0 = EPOCH_MS + 1_000_000  # an arbitrary moment after the epoch, in Unix ms
IDS_PER_MS = SEQUENCE_MASK + 1


class FakeClock:
    """Returns the scripted readings in turn, then keeps returning the last one; counts reads."""

    def __init__(self, *readings: int) -> None:
        self.readings = list(readings)
        self.reads = 0

    def __call__(self) -> int:
        self.reads += 1
        return self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]


def test_layout_round_trips():
    id_ = compose_id(T0, 4321, 77)
    assert (unix_ms_of(id_), shard_of(id_), sequence_of(id_)) == (T0, 4321, 77)
    assert id_.bit_length() <= 63, "fits a positive signed bigint"


def test_ids_increase_on_one_thread():
    generator = IdGenerator(1)
    ids = [generator.next_id() for _ in range(20_000)]
    assert all(a < b for a, b in itertools.pairwise(ids))
    assert {shard_of(id_) for id_ in ids} == {1}


def test_ids_are_unique_across_threads():
    generator = IdGenerator(2)
    per_thread: list[list[int]] = [[] for _ in range(8)]
    start = threading.Barrier(len(per_thread))

    def make(out: list[int]) -> None:
        start.wait()
        out.extend(generator.next_id() for _ in range(5_000))

    threads = [threading.Thread(target=make, args=(out,)) for out in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every_id = [id_ for out in per_thread for id_ in out]
    assert len(set(every_id)) == len(every_id) == 40_000
    for out in per_thread:  # each thread sees its own ids increase
        assert out == sorted(out)


def test_timestamp_is_decoded_from_the_id():
    before = datetime.now(UTC)
    id_ = IdGenerator(3).next_id()
    after = datetime.now(UTC)
    assert before - timedelta(milliseconds=1) <= timestamp_of(id_) <= after
    assert timestamp_of(compose_id(T0, 1, 0)) == datetime.fromtimestamp(T0 / 1000, tz=UTC)


def test_sequence_overflow_waits_for_the_next_millisecond():
    # The clock stays on T0 for the first 1024 ids and 5 more reads, then ticks.
    clock = FakeClock(*([T0] * (IDS_PER_MS + 5)), T0 + 1)
    generator = IdGenerator(5, clock_ms=clock)
    ids = [generator.next_id() for _ in range(IDS_PER_MS)]
    assert [sequence_of(id_) for id_ in ids] == list(range(IDS_PER_MS))
    assert {unix_ms_of(id_) for id_ in ids} == {T0}
    reads_before = clock.reads
    overflow = generator.next_id()
    assert clock.reads - reads_before > 2, "it kept reading the clock until it moved on"
    assert (unix_ms_of(overflow), sequence_of(overflow)) == (T0 + 1, 0)
    assert overflow > ids[-1]


def test_real_clock_never_puts_more_than_1024_ids_in_a_millisecond():
    generator = IdGenerator(6)
    ids = [generator.next_id() for _ in range(5 * IDS_PER_MS)]
    assert len(set(ids)) == len(ids)
    per_ms: dict[int, int] = {}
    for id_ in ids:
        per_ms[unix_ms_of(id_)] = per_ms.get(unix_ms_of(id_), 0) + 1
    assert max(per_ms.values()) <= IDS_PER_MS


def test_clock_going_backwards_keeps_ids_increasing():
    clock = FakeClock(T0, T0 - 50, T0 - 49, T0 + 1)
    generator = IdGenerator(7, clock_ms=clock)
    ids = [generator.next_id() for _ in range(4)]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert [unix_ms_of(id_) for id_ in ids] == [T0, T0, T0, T0 + 1]


def test_overflow_while_the_clock_is_behind_borrows_the_next_millisecond():
    clock = FakeClock(T0, T0 - 1000)  # stepped back a whole second, and stays there
    generator = IdGenerator(8, clock_ms=clock)
    ids = [generator.next_id() for _ in range(IDS_PER_MS + 1)]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    assert unix_ms_of(ids[-1]) == T0 + 1
    assert clock.reads < IDS_PER_MS + 10, "it did not spin waiting for the clock to catch up"


@pytest.mark.parametrize("shard", [0, MAX_SHARD_ID + 1, -1])
def test_shards_outside_1_to_8191_are_refused(shard):
    with pytest.raises(ValueError, match="shard id"):
        IdGenerator(shard)


def test_ids_before_the_epoch_are_refused():
    with pytest.raises(OverflowError):
        compose_id(EPOCH_MS - 1, 1, 0)


def test_min_id_at_is_a_lower_bound_for_later_ids():
    generator = IdGenerator(9)
    cursor = min_id_at(datetime.now(UTC) - timedelta(milliseconds=1))
    assert generator.next_id() > cursor
    assert min_id_at(datetime(2000, 1, 1, tzinfo=UTC)) == 0
