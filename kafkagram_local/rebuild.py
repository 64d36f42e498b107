"""`kafkagram rebuild timelines | counters | explore`: derived state recomputed from PostgreSQL, the record.

Home timelines live in Redis; a missing one is rebuilt at its owner's next read anyway, so this is
for a Redis that lost its data (or was flushed) while people are active. Counters live next to the
rows they count; recounting repairs data loaded or changed around the flows. Explore's popular posts
and trending tags (Redis) are rebuilt from the posts' rows (after a seed, which emits no events).
"""

from __future__ import annotations

import pg8000.native
import redis

from kafkagram.db import transaction
from kafkagram.explore import Discovery
from kafkagram.store.counters import recount
from kafkagram.timeline import ACTIVE_DAYS, FeedManager


def rebuild_timelines(conn: pg8000.native.Connection, client: redis.Redis, prefix: str = "") -> int:
    """Regenerate the home timeline of every user seen in the last ACTIVE_DAYS (the ones fan-out
    writes to); returns how many."""
    feeds = FeedManager(client, prefix=prefix)
    user_ids = [int(row[0]) for row in conn.run(
        "SELECT id FROM users WHERE last_seen_at > now() - make_interval(days => :days) ORDER BY id",
        days=ACTIVE_DAYS)]
    for user_id in user_ids:
        feeds.mark_active(user_id)
        feeds.regenerate(conn, user_id)
    return len(user_ids)


def rebuild_counters(conn: pg8000.native.Connection) -> dict[str, int]:
    """Recount every counter in one transaction; returns the rows corrected per counter."""
    with transaction(conn):
        return recount(conn)


def rebuild_explore(conn: pg8000.native.Connection, client: redis.Redis, prefix: str = "") -> tuple[int, int]:
    """Explore's popular posts and trending tags from PostgreSQL; returns (posts ranked, tagged posts)."""
    return Discovery(client, prefix=prefix).rebuild(conn)
