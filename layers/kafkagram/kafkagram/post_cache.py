"""Posts as timelines show them, cached in Redis: a page is hydrated with one MGET, and PostgreSQL is
asked only for the misses, in one query.

An entry is the whole post (author summary, caption, media, counters) as JSON under `post:<id>`. The
API forgets a post once a write that changes what it shows has committed (likes, comments, deletion;
a deleted post also leaves every timeline through fan-out, so it is not asked for again). A reader
that loaded a post just before such a commit may put the older copy back: `POST_CACHE_TTL_S` bounds
how long that, or an author's renamed profile, can show.

A script can read the cache in its own round trip with CACHED_POSTS_LUA, given `key_prefix` (the home
timeline's script does, right after its range read: kafkagram.feed); `get_many` then takes what it read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pg8000.native
import redis

from kafkagram.store import posts as posts_store
from kafkagram.store.models import Post, PostMedia, UserSummary

POST_CACHE_TTL_S = 60
# cached_posts(key prefix, post ids as decimal strings) -> the cached entries, in order (false: a miss).
# It builds the keys from `PostCache.key_prefix`, so the key format stays PostCache's own. Scripts that
# build keys need a non-cluster Redis, as the timelines already do.
CACHED_POSTS_LUA = """
local function cached_posts(prefix, ids)
  if #ids == 0 then return {} end
  local keys = {}
  for i, id in ipairs(ids) do keys[i] = prefix .. id end
  return redis.call('MGET', unpack(keys))
end
"""


class PostCache:
    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self._redis = client
        self._prefix = prefix  # tests isolate their keys with it

    @property
    def key_prefix(self) -> str:
        """A post's key is this prefix and its decimal id."""
        return f"{self._prefix}post:"

    def _key(self, post_id: int) -> str:
        return f"{self.key_prefix}{post_id}"

    def get_many(self, conn: pg8000.native.Connection, post_ids: Iterable[int],
                 cached: Mapping[int, bytes | str | None] | None = None) -> list[Post]:
        """Published posts in the order asked; missing or deleted ones are skipped. `cached`: entries
        already read for some of the ids (None: a miss), by a script composing CACHED_POSTS_LUA; the
        others are read with one MGET."""
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return []
        entries = dict(cached or {})
        unread = [post_id for post_id in ids if post_id not in entries]
        if unread:
            entries.update(zip(unread, self._redis.mget([self._key(post_id) for post_id in unread]), strict=True))
        found: dict[int, Post] = {}
        missing: list[int] = []
        for post_id in ids:
            raw = entries[post_id]
            if raw is None:
                missing.append(post_id)
            else:
                found[post_id] = decode_post(raw)
        if missing:
            loaded = posts_store.get_posts_by_ids(conn, missing)
            if loaded:
                pipe = self._redis.pipeline(transaction=False)
                for post in loaded:
                    pipe.set(self._key(post.id), encode_post(post), ex=POST_CACHE_TTL_S)
                pipe.execute()
            found.update((post.id, post) for post in loaded)
        return [found[post_id] for post_id in ids if post_id in found]

    def forget(self, *post_ids: int) -> None:
        if post_ids:
            self._redis.delete(*(self._key(post_id) for post_id in post_ids))


def encode_post(post: Post) -> str:
    return json.dumps(asdict(post), default=_datetime_to_text, separators=(",", ":"))


def decode_post(raw: bytes | str) -> Post:
    value: dict[str, Any] = json.loads(raw)
    return Post(**{**value, "author": UserSummary(**value["author"]),
                   "media": [PostMedia(**media) for media in value["media"]],
                   "created_at": datetime.fromisoformat(value["created_at"]),
                   "published_at": None if value["published_at"] is None
                   else datetime.fromisoformat(value["published_at"])})


def _datetime_to_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
