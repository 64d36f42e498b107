"""Push: timeline-updated and notification-created -> every open WebSocket of their recipients, through
API Gateway's management API at WEBSOCKET_ENDPOINT (the stage's https URL), asynchronously over pooled
connections (logic: `kafkagram.flows.push`). A failed send retries the batch from its event, so a
connection may get an update twice (clients de-duplicate by the envelope's id)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch_together
from kafkagram.clients import Clients
from kafkagram.events import Event
from kafkagram.flows.push import PUSHED_TYPES, push_all
from kafkagram.observability import count, metrics
from kafkagram.websocket_api import SandboxSender

logger = Logger()
clients = Clients()  # settings read and clients made at the first record
# Sends in flight per sandbox: each waits on API Gateway's answer, so many overlap on one connection pool.
PUSH_CONCURRENCY = 64
sender = SandboxSender(PUSH_CONCURRENCY)


def reset_management_api() -> None:
    """Forget the client (tests point WEBSOCKET_ENDPOINT elsewhere)."""
    sender.reset()


def push_events(events: Sequence[Event]) -> int | None:
    report = sender.run(push_all(clients.registry, sender.post_to_connection, events, PUSH_CONCURRENCY))
    logger.info("pushed", extra={"events": len(events), "frames": report.frames, "delivered": report.delivered,
                                 "gone": len(report.gone), "first_failed": report.first_failed})
    count("FramesDelivered", report.delivered)
    count("ConnectionsGone", len(report.gone))
    return report.first_failed


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch_together(event, context, PUSHED_TYPES, push_events, logger,
                                 clients.database)  # connects only to divert a poison record
