"""Who is looking at which post, in Redis: the one owner of the live post-stats subscriptions.

A WebSocket connection watches the posts on its screen (`{"action": "watch", "post_ids": [...]}`,
functions/ws/app.py) and PostStatsFunction (kafkagram.flows.post_stats) tells it when their likes or
comments change. Keys:
- `watch:post:<post id>`: a set of the connection ids watching the post. A post nobody watches has no
  key, so an interaction on it costs the stats function one SMEMBERS and nothing else;
- `watch:conn:<connection id>`: a set of the post ids the connection watches, so `$disconnect` (and a
  410 from the gateway) can take it out of every post's set, and the cap can be counted;
- `watch:sent:<post id>`: the throttle, set for STATS_INTERVAL_MS each time a post's counts are sent.

The sets expire after WATCH_TTL_S unless refreshed (each watch and each ping refreshes them), the
registry's TTL: a lost `$disconnect` must not leave a connection watching forever. A connection
watches at most MAX_WATCHED_POSTS posts: a screen shows a handful, and each watched post costs a
frame per change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import redis

from kafkagram.connections import CONNECTION_TTL_S

WATCH_TTL_S = CONNECTION_TTL_S  # as long as the registration the watches belong to
MAX_WATCHED_POSTS = 50
# Ids in one watch or unwatch message: a screenful, never more than a connection may watch.
MAX_POST_IDS_PER_MESSAGE = MAX_WATCHED_POSTS
# At most one frame per post in this window (a few a second however hot the post): the stats function
# sends the newest counts at the window's end instead of every change.
STATS_INTERVAL_MS = 250

# KEYS: none (every key is built from ARGV, like the registry's script). ARGV: key prefix, connection id,
# TTL s, cap, then the post ids. Adds all of them, or none when the connection would then watch more
# than `cap` posts (returns -1); otherwise returns how many the connection watches. One script, so two
# concurrent watch messages of one connection cannot both pass the cap.
_WATCH_SCRIPT = """
local conn = ARGV[1] .. 'watch:conn:' .. ARGV[2]
local fresh = 0
for i = 5, #ARGV do
  if redis.call('SISMEMBER', conn, ARGV[i]) == 0 then fresh = fresh + 1 end
end
if redis.call('SCARD', conn) + fresh > tonumber(ARGV[4]) then return -1 end
for i = 5, #ARGV do
  local post = ARGV[1] .. 'watch:post:' .. ARGV[i]
  redis.call('SADD', post, ARGV[2])
  redis.call('EXPIRE', post, ARGV[3])
  redis.call('SADD', conn, ARGV[i])
end
redis.call('EXPIRE', conn, ARGV[3])
return redis.call('SCARD', conn)
"""

# ARGV: key prefix, TTL s (0: forget), then connection ids. With a TTL: each connection's posts get it
# back in their sets (should a post's set have expired first) and every key's TTL is renewed. Without:
# each connection leaves its posts' sets and its own set is deleted.
_EACH_CONNECTION_SCRIPT = """
local ttl = tonumber(ARGV[2])
for i = 3, #ARGV do
  local conn = ARGV[1] .. 'watch:conn:' .. ARGV[i]
  for _, post_id in ipairs(redis.call('SMEMBERS', conn)) do
    local post = ARGV[1] .. 'watch:post:' .. post_id
    if ttl > 0 then
      redis.call('SADD', post, ARGV[i])
      redis.call('EXPIRE', post, ttl)
    else
      redis.call('SREM', post, ARGV[i])
    end
  end
  if ttl > 0 then redis.call('EXPIRE', conn, ttl) else redis.call('DEL', conn) end
end
return 0
"""

# KEYS: the posts' throttle keys. ARGV: the window in ms. For each key, -1 when it was free (it is now
# taken for the window: send now), else the ms left before it frees up (send then).
_CLAIM_SCRIPT = """
local result = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, '1', 'NX', 'PX', ARGV[1]) then
    result[i] = -1
  else
    local left = redis.call('PTTL', key)
    if left < 0 then left = 0 end
    result[i] = left
  end
end
return result
"""


class PostWatchers:
    def __init__(self, client: redis.Redis, prefix: str = "", ttl_s: int = WATCH_TTL_S) -> None:
        self._redis = client
        self._prefix = prefix  # the registry's prefix (tests isolate with it)
        self.ttl_s = ttl_s
        self._watch = client.register_script(_WATCH_SCRIPT)
        self._each_connection = client.register_script(_EACH_CONNECTION_SCRIPT)
        self._claim = client.register_script(_CLAIM_SCRIPT)

    def post_key(self, post_id: int) -> str:
        return f"{self._prefix}watch:post:{post_id}"

    def connection_key(self, connection_id: str) -> str:
        return f"{self._prefix}watch:conn:{connection_id}"

    def sent_key(self, post_id: int) -> str:
        return f"{self._prefix}watch:sent:{post_id}"

    # Written by the WebSocket routes ---------------------------------------------------------------

    def watch(self, connection_id: str, post_ids: Sequence[int], *, cap: int = MAX_WATCHED_POSTS) -> int | None:
        """The connection watches these posts too: how many it watches now, or None (nothing added) when
        that would be more than `cap`. Watching a post again only renews its TTL."""
        if not post_ids:
            return self.count_of(connection_id)
        watched = int(self._watch(args=[self._prefix, connection_id, self.ttl_s, cap, *dict.fromkeys(post_ids)]))
        return None if watched < 0 else watched

    def unwatch(self, connection_id: str, post_ids: Sequence[int]) -> None:
        if not post_ids:
            return
        pipe = self._redis.pipeline(transaction=False)
        for post_id in post_ids:
            pipe.srem(self.post_key(post_id), connection_id)
        pipe.srem(self.connection_key(connection_id), *post_ids)
        pipe.execute()

    def refresh(self, connection_id: str) -> None:
        """Renews the TTL of the connection's watches (the ping route: a screen may stay put for long)."""
        self._each_connection(args=[self._prefix, self.ttl_s, connection_id])

    def forget(self, connection_ids: Iterable[str]) -> None:
        """The connections watch nothing any more (`$disconnect`, or the gateway said 410): one script."""
        ids = list(dict.fromkeys(connection_ids))
        if ids:
            self._each_connection(args=[self._prefix, 0, *ids])

    def drop_gone(self, gone: Mapping[str, Iterable[int]]) -> None:
        """Connections the gateway says are gone (410), with the posts they were found watching: out of
        those posts' sets even when their own set has expired already, then forgotten."""
        if not gone:
            return
        pipe = self._redis.pipeline(transaction=False)
        for connection_id, post_ids in gone.items():
            for post_id in post_ids:
                pipe.srem(self.post_key(post_id), connection_id)
        pipe.execute()
        self.forget(gone)

    # Read by the stats function --------------------------------------------------------------------

    def count_of(self, connection_id: str) -> int:
        return int(self._redis.scard(self.connection_key(connection_id)))

    def watched_by(self, connection_id: str) -> set[int]:
        return {int(m) for m in self._redis.smembers(self.connection_key(connection_id))}

    def watchers_of(self, post_ids: Sequence[int]) -> dict[int, list[str]]:
        """Each watched post's connection ids (posts nobody watches are left out): one round trip."""
        ids = list(dict.fromkeys(post_ids))
        pipe = self._redis.pipeline(transaction=False)
        for post_id in ids:
            pipe.smembers(self.post_key(post_id))
        return {post_id: sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
                for post_id, members in zip(ids, pipe.execute(), strict=True) if members}

    def claim(self, post_ids: Sequence[int], interval_ms: int = STATS_INTERVAL_MS) -> tuple[list[int], dict[int, int]]:
        """The throttle: (posts whose counts may be sent now, each taking the window; {post: ms until it
        may be sent again} for the others). One script call."""
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return [], {}
        answers = self._claim(keys=[self.sent_key(post_id) for post_id in ids], args=[interval_ms])
        now = [post_id for post_id, left in zip(ids, answers, strict=True) if int(left) < 0]
        later = {post_id: int(left) for post_id, left in zip(ids, answers, strict=True) if int(left) >= 0}
        return now, later
