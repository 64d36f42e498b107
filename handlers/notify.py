"""Notifications: likes and comments (interaction-events), follows (user-events) and mentions in
post-created (post-events) -> grouped notifications, each change published as notification-created
(logic: `kafkagram.flows.notify`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch
from kafkagram.clients import Clients
from kafkagram.events import Event
from kafkagram.flows.notify import NOTIFYING_TYPES, notify
from kafkagram.observability import metrics

logger = Logger()
clients = Clients()  # settings read and clients made at the first record


def on_interaction(event: Event) -> None:
    emitted = notify(clients.database, event)
    logger.info(event.type, extra={"event_id": event.id, "notifications": len(emitted)})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, dict.fromkeys(NOTIFYING_TYPES, on_interaction), logger, clients.database)
