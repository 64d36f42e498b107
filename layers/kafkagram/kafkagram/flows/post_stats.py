"""Live post stats: likes and comments changed -> `post-stats-updated` to every connection watching the post.

Per batch (one partition's interaction events; a post's events share a partition, its Kafka key):
1. the batch's distinct posts; which of them anyone watches (`PostWatchers.watchers_of`, one round trip).
   Nobody watching: done, no database read, no send;
2. the throttle (`PostWatchers.claim`): a post whose counts went out less than STATS_INTERVAL_MS ago is
   not sent now. Coalescing, not dropping: that earlier send may have read the counts before this batch's
   changes were committed, so once its window ends (a sleep of at most the interval, normally once per
   batch) the post is claimed again and its then-current counts are sent. Every batch sends after its own
   changes were committed, so the last send carries the final counts;
3. the counts of the posts to send in ONE query (the events carry no counts: reading them after the
   commit is what makes them final), then one frame per connection with all its posts, the connections
   concurrently (`kafkagram.flows.push.deliver`); connections the gateway calls gone (410) stop watching.

Frames are state, not deltas, so a retried batch only sends the current counts again: nothing to
de-duplicate and no marker to keep. A send that fails (other than 410) retries the batch.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from kafkagram.events import COMMENT_ADDED, COMMENT_DELETED, LIKE_GIVEN, LIKE_REMOVED
from kafkagram.flows.push import Send, deliver
from kafkagram.store.posts import PostStats
from kafkagram.watchers import STATS_INTERVAL_MS, PostWatchers

STATS_TYPES = (LIKE_GIVEN, LIKE_REMOVED, COMMENT_ADDED, COMMENT_DELETED)
FRAME_TYPE = "post-stats-updated"
FRAME_VERSION = 1
MAX_WAITS = 3  # windows a batch waits for at most (each at most STATS_INTERVAL_MS)
WAKE_MARGIN_MS = 5

logger = logging.getLogger(__name__)

ReadStats = Callable[[Sequence[int]], Sequence[PostStats]]  # one query for all the posts
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class StatsReport:
    watched: int = 0  # posts of the batch someone watches
    throttled: int = 0  # of those, posts sent at the end of their window rather than at once
    frames: int = 0
    delivered: int = 0
    gone: list[str] = field(default_factory=list)
    failed: bool = False  # a send failed (not 410): the batch is retried


def stats_frame(stats: Sequence[PostStats]) -> bytes:
    """What a watching connection receives: the current counts of its posts (ids as strings: 64-bit)."""
    return json.dumps({"type": FRAME_TYPE, "version": FRAME_VERSION, "data": {"posts": [
        {"post_id": str(s.post_id), "likes_count": s.likes_count, "comments_count": s.comments_count}
        for s in stats]}}, separators=(",", ":")).encode()


async def push_post_stats(watchers: PostWatchers, read_stats: ReadStats, send: Send, post_ids: Sequence[int],
                          concurrency: int, *, interval_ms: int = STATS_INTERVAL_MS,
                          sleep: Sleep = asyncio.sleep) -> StatsReport:
    """Sends the current counts of the watched posts among `post_ids`, throttled per post."""
    audience = watchers.watchers_of(post_ids)
    if not audience:
        return StatsReport()
    due, waiting = watchers.claim(list(audience), interval_ms)
    throttled = len(waiting)
    rounds = [await _send_round(watchers, read_stats, send, {p: audience[p] for p in due}, concurrency)]
    for _ in range(MAX_WAITS):
        if rounds[-1].failed or not waiting:
            break
        # A window ends when its key expires; PTTL rounds down, so wake a little after, then claim again
        # (still taken: a window of another invocation, or not expired yet; wait for the next end).
        await sleep((min(max(waiting.values()), interval_ms) + WAKE_MARGIN_MS) / 1000)
        due, waiting = watchers.claim(list(waiting), interval_ms)
        rounds.append(await _send_round(watchers, read_stats, send, {p: audience[p] for p in due}, concurrency))
    if waiting and not rounds[-1].failed:  # only if windows kept being taken: the counts are someone else's to send
        logger.warning("post stats left to other senders", extra={"posts": sorted(waiting)})
    return StatsReport(len(audience), throttled, sum(r.frames for r in rounds), sum(r.delivered for r in rounds),
                       [c for r in rounds for c in r.gone], rounds[-1].failed)


@dataclass(frozen=True)
class _Round:
    frames: int = 0
    delivered: int = 0
    gone: list[str] = field(default_factory=list)
    failed: bool = False


async def _send_round(watchers: PostWatchers, read_stats: ReadStats, send: Send, audience: dict[int, list[str]],
                      concurrency: int) -> _Round:
    if not audience:
        return _Round()
    stats = {s.post_id: s for s in read_stats(list(audience))}  # deleted posts are left out: nothing to say
    posts_of: dict[str, list[int]] = {}
    for post_id, connection_ids in audience.items():
        if post_id in stats:
            for connection_id in connection_ids:
                posts_of.setdefault(connection_id, []).append(post_id)
    queues = {connection_id: [(0, stats_frame([stats[p] for p in post_ids]))]
              for connection_id, post_ids in posts_of.items()}
    results = await deliver(send, queues, concurrency, lambda connection_id: connection_id)
    gone = {connection_id: posts_of[connection_id] for connection_id, result in results.items() if result.gone}
    watchers.drop_gone(gone)
    return _Round(len(queues), sum(r.delivered for r in results.values()), list(gone),
                  any(r.failed_at is not None for r in results.values()))
