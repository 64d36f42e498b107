"""Follow graph: user-followed / user-unfollowed on user-events -> the follower's home timeline gains
(backfill) or loses the followee's posts (logic: `kafkagram.flows.follow_graph`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch
from kafkagram.clients import Clients
from kafkagram.events import USER_FOLLOWED, USER_UNFOLLOWED, Event
from kafkagram.flows.follow_graph import apply_follow
from kafkagram.observability import metrics

logger = Logger()
clients = Clients()  # settings read and clients made at the first record


def on_follow_changed(event: Event) -> None:
    outcome = apply_follow(clients.database, clients.feeds, event)
    logger.info(event.type, extra={"event_id": event.id, "posts": outcome.changed, "stale": outcome.stale})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, dict.fromkeys((USER_FOLLOWED, USER_UNFOLLOWED), on_follow_changed), logger,
                        clients.database)
