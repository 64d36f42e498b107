"""The edge's check of @mentions in a caption or comment: at most MENTIONS_MAX distinct ones, so a 400
names the field before anything is stored (the store checks again, and the event schemas cap
mentioned_user_ids at the same number)."""

from __future__ import annotations

from pydantic_core import PydanticCustomError

from kafkagram.events.catalog import MENTIONS_MAX
from kafkagram.store.posts import parse_text


def limit_mentions(value: str) -> str:
    """A field validator: `value` unchanged, or a 400 "<field>: at most 20 @mentions"."""
    count = len(parse_text(value).mentions)
    if count > MENTIONS_MAX:
        raise PydanticCustomError("too_many_mentions", "at most {limit} distinct @mentions, got {count}",
                                  {"limit": MENTIONS_MAX, "count": count})
    return value
