"""64-bit time-ordered ids, Instagram style: 41 bits of milliseconds, 13 bits of shard, 10 bits of sequence.

    | 41 bits: ms since EPOCH_MS | 13 bits: shard | 10 bits: sequence |

Ids sort by creation time (to the millisecond), so they double as pagination cursors and as
sorted-set scores. Two generators never collide as long as their shard ids differ: shard 0 belongs to
PostgreSQL's `next_id()` (migration 0002, same layout and epoch), Python processes take shards 1..8191
from `allocate_shard_id`.

The ids live in PostgreSQL's signed bigint, so the top timestamp bit is its sign bit: ids stay positive
and ordered for 2**40 ms (about 34.8 years, until 2059-11) after the epoch; both generators refuse to
go past that rather than silently wrap into negative ids.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pg8000.native

EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z; also hard-coded in migration 0002's next_id()
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
TIMESTAMP_BITS = 41
SHARD_BITS = 13
SEQUENCE_BITS = 10
MAX_SHARD_ID = (1 << SHARD_BITS) - 1
SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1
TIMESTAMP_SHIFT = SHARD_BITS + SEQUENCE_BITS
# Beyond this the id would not fit a positive signed bigint (see the module docstring).
MAX_ELAPSED_MS = (1 << (TIMESTAMP_BITS - 1)) - 1
DATABASE_SHARD_ID = 0  # the shard of PostgreSQL's next_id()

Clock = Callable[[], int]


def wall_clock_ms() -> int:
    """Milliseconds since the Unix epoch (wall clock: ids carry real time, so not a monotonic clock)."""
    return time.time_ns() // 1_000_000


def compose_id(unix_ms: int, shard_id: int, sequence: int) -> int:
    elapsed = unix_ms - EPOCH_MS
    if not 0 <= elapsed <= MAX_ELAPSED_MS:
        raise OverflowError(f"time {unix_ms} ms is outside the id range that starts at {EPOCH.isoformat()}")
    if not 0 <= shard_id <= MAX_SHARD_ID:
        raise ValueError(f"shard id must be in 0..{MAX_SHARD_ID}, got {shard_id}")
    return (elapsed << TIMESTAMP_SHIFT) | (shard_id << SEQUENCE_BITS) | (sequence & SEQUENCE_MASK)


def unix_ms_of(id_: int) -> int:
    return (id_ >> TIMESTAMP_SHIFT) + EPOCH_MS


def timestamp_of(id_: int) -> datetime:
    """When the id was made (UTC, millisecond precision)."""
    return EPOCH + timedelta(milliseconds=id_ >> TIMESTAMP_SHIFT)


def shard_of(id_: int) -> int:
    return (id_ >> SEQUENCE_BITS) & MAX_SHARD_ID


def sequence_of(id_: int) -> int:
    return id_ & SEQUENCE_MASK


def min_id_at(when: datetime) -> int:
    """The smallest id made at or after `when`: a cursor for "since" queries (`WHERE id >= ...`)."""
    if when.tzinfo is None:
        raise ValueError("min_id_at needs a timezone-aware datetime")
    elapsed = max((when - EPOCH) // timedelta(milliseconds=1), 0)
    return compose_id(EPOCH_MS + elapsed, 0, 0)


class IdGenerator:
    """Thread-safe generator for one shard; one per process, with a shard no other process uses."""

    def __init__(self, shard_id: int, clock_ms: Clock = wall_clock_ms) -> None:
        if not 1 <= shard_id <= MAX_SHARD_ID:
            raise ValueError(f"shard id must be in 1..{MAX_SHARD_ID} (0 is PostgreSQL's), got {shard_id}")
        self.shard_id = shard_id
        self._clock_ms = clock_ms
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0

    def next_id(self) -> int:
        with self._lock:
            now = self._clock_ms()
            # Clock stepped back (NTP): stay on the last millisecond so ids never go backwards.
            now = max(now, self._last_ms)
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & SEQUENCE_MASK
                if self._sequence == 0:  # 1024 ids in this millisecond: move to the next one
                    now = self._next_millisecond()
            else:
                self._sequence = 0
            self._last_ms = now
            return compose_id(now, self.shard_id, self._sequence)

    def _next_millisecond(self) -> int:
        target = self._last_ms + 1
        now = self._clock_ms()
        if now < self._last_ms:
            # The clock is behind after a step back: waiting could take as long as the step, so borrow
            # the next millisecond (ids run slightly ahead of the clock until it catches up).
            return target
        while now < target:  # at most one millisecond of spinning
            now = self._clock_ms()
        return now


def allocate_shard_id(connection: pg8000.native.Connection) -> int:
    """A shard for this process's IdGenerator, from a cycling PostgreSQL sequence (1..8191).

    Distinct for the next 8191 allocations, which is enough as long as fewer processes make ids at
    the same time.
    """
    return int(connection.run("SELECT nextval('id_shard_sequence')")[0][0])
