"""Webhooks: user-followed, like-given, comment-added, post-created (published, mentions) and
webhook-ping -> a signed POST to each of the user's endpoints that chose the kind. Logic:
`kafkagram.webhooks.deliver_event`; an endpoint that does not answer 2xx fails the record, which the
event source mapping retries (endpoints that got it are not sent it again), then sends to the failure topic."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch
from kafkagram.clients import Clients
from kafkagram.events import Event
from kafkagram.observability import count, metrics
from kafkagram.webhooks import EVENT_TYPES, deliver_event

logger = Logger()
clients = Clients()  # the database connection, made at the first record


def on_event(event: Event) -> None:
    outcome = deliver_event(clients.database, event)
    if outcome.delivered:
        count("WebhooksDelivered", outcome.delivered)
    logger.info(event.type, extra={"event_id": event.id, "delivered": outcome.delivered,
                                   "skipped": outcome.skipped})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, dict.fromkeys(EVENT_TYPES, on_event), logger, clients.database)
