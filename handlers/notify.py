"""Notifications (issue 4, handler 5): like-given and comment-added (interaction-events), user-followed
(user-events) and mentions in post-created (post-events) -> grouped notifications for the people
concerned, each change published as notification-created through the outbox.

The logic is `kafkagram.flows.notify_interaction`; this module only decodes the batch and reports the
first failed record of each partition (ReportBatchItemFailures).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import KafkaEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram import flows
from kafkagram.events import Event

logger = Logger()
resources = flows.Resources()  # settings read and clients made at the first record


def apply(event: Event) -> None:
    if event.type not in flows.NOTIFYING_TYPES:  # the template's filter lets only these through
        logger.debug("ignored", extra={"type": event.type})
        return
    emitted = flows.notify_interaction(resources.connection(), event)
    logger.info(event.type, extra={"event_id": event.id, "notifications": len(emitted)})


@logger.inject_lambda_context
@event_source(data_class=KafkaEvent)
def handler(event: KafkaEvent, context: LambdaContext) -> dict[str, Any]:
    deliveries = [flows.Delivery(f"{r.topic}-{r.partition}", r.offset, None if r.value is None else r.decoded_value)
                  for r in event.records]
    return flows.batch_response(flows.apply_in_order(deliveries, apply, resources))
