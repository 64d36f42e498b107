"""Notifications (issue 4, handler 5): like-given and comment-added (interaction-events), user-followed
(user-events) and mentions in post-created (post-events) -> grouped notifications for the people
concerned, each change published as notification-created through the outbox.

The logic is `kafkagram.flows.notify_interaction`; `handle_batch` decodes the batch and reports failures.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram import flows
from kafkagram.events import Event
from kafkagram.handlers_common import handle_batch

logger = Logger()
resources = flows.Resources()  # settings read and clients made at the first record


def on_interaction(event: Event) -> None:
    emitted = flows.notify_interaction(resources.connection(), event)
    logger.info(event.type, extra={"event_id": event.id, "notifications": len(emitted)})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, dict.fromkeys(flows.NOTIFYING_TYPES, on_interaction), logger,
                        on_failure=resources.discard_connection)
