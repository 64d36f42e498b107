"""Explore: post-events (post-created, post-deleted) and interaction-events (likes, comments) -> the
popular posts and trending tags Discovery keeps in Redis (logic: `kafkagram.flows.explore`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch_together
from kafkagram.clients import Clients
from kafkagram.events import Event
from kafkagram.explore import Discovery
from kafkagram.flows.explore import SYNCED_TYPES, sync_posts
from kafkagram.observability import count, metrics

logger = Logger()
clients = Clients()  # settings read and clients made at the first record


def on_events(events: Sequence[Event]) -> None:
    # A whole partition's events at once: the sync is idempotent and order-free, so a failure retries all.
    outcome = sync_posts(clients.database, Discovery(clients.redis, prefix=clients.key_prefix), events)
    logger.info("synced", extra={"events": len(events), "ranked": outcome.ranked, "dropped": outcome.dropped,
                                 "tag_changes": outcome.tag_changes})
    count("ExplorePostsRanked", outcome.ranked)
    count("ExplorePostsDropped", outcome.dropped)
    count("ExploreTagChanges", outcome.tag_changes)


def process(events: Sequence[Event]) -> int | None:
    on_events(events)
    return None


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch_together(event, context, SYNCED_TYPES, process, logger, clients.database)
