"""Cursor pagination by id, one query per page.

Cursor format: the decimal string of the last id of the page (ids are 64-bit and time-ordered,
written as strings like every id on the wire). Clients treat it as opaque and send it back as
`cursor`; each list documents which id it is (the post, the follow edge, the notification's
activity...). A page asks for `limit + 1` rows: the extra row only says that another page exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kafkagram.events.catalog import ID_PATTERN
from kafkagram.store.errors import Invalid

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_ID = 2**63 - 1  # PostgreSQL bigint
_CURSOR = re.compile(ID_PATTERN)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None  # None on the last page


def encode_cursor(id_: int) -> str:
    return str(id_)


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor stands for; None for the first page. Raises Invalid for anything else."""
    if cursor is None or cursor == "":
        return None
    if not _CURSOR.match(cursor) or int(cursor) > MAX_ID:
        raise Invalid("invalid-cursor", "the cursor is not one this list returned")
    return int(cursor)


def page_size(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise Invalid("invalid-limit", f"limit must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def build_page(rows: Sequence[Sequence[Any]], limit: int, item: Callable[[Sequence[Any]], T],
               cursor_of: Callable[[Sequence[Any]], int | str]) -> Page[T]:
    """A page from `limit + 1` rows fetched in list order."""
    kept = rows[:limit]
    more = len(rows) > limit
    next_cursor = str(cursor_of(kept[-1])) if more and kept else None
    return Page([item(row) for row in kept], next_cursor)
