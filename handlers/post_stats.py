"""Post stats: like-given, like-removed, comment-added and comment-deleted -> `post-stats-updated` (the
post's current like and comment counts) to every WebSocket watching the post, at most one frame per
post every STATS_INTERVAL_MS and always the final counts (logic: `kafkagram.flows.post_stats`), through
API Gateway's management API at WEBSOCKET_ENDPOINT over pooled connections, as push sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch_together
from kafkagram.clients import Clients
from kafkagram.events import Event, read_data
from kafkagram.events.reading import PostInteraction
from kafkagram.flows.post_stats import STATS_TYPES, push_post_stats
from kafkagram.observability import count, metrics
from kafkagram.store.posts import PostStats, post_stats
from kafkagram.websocket_api import SandboxSender

logger = Logger()
clients = Clients()  # settings read and clients made at the first record
# Sends in flight per sandbox (as push): each waits on API Gateway's answer.
STATS_CONCURRENCY = 64
sender = SandboxSender(STATS_CONCURRENCY)


def reset_management_api() -> None:
    """Forget the client (tests point WEBSOCKET_ENDPOINT elsewhere)."""
    sender.reset()


def read_stats(post_ids: Sequence[int]) -> list[PostStats]:
    return clients.database.read(lambda conn: post_stats(conn, post_ids))


def send_stats(events: Sequence[Event]) -> int | None:
    # Every event read before anything is sent: one the function cannot read is diverted first.
    post_ids = [read_data(event, PostInteraction).post_id for event in events]
    report = sender.run(push_post_stats(clients.watchers, read_stats, sender.post_to_connection, post_ids,
                                        STATS_CONCURRENCY))
    logger.info("post stats", extra={"events": len(events), "watched": report.watched, "throttled": report.throttled,
                                     "frames": report.frames, "delivered": report.delivered,
                                     "gone": len(report.gone), "failed": report.failed})
    count("StatsFramesDelivered", report.delivered)
    count("ConnectionsGone", len(report.gone))
    return 0 if report.failed else None  # frames are state: the whole batch again sends the current counts


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch_together(event, context, STATS_TYPES, send_stats, logger, clients.database)
