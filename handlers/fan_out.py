"""Fan-out (issue 4, handler 3): post-created and post-deleted on post-events -> home timelines.

The logic is `kafkagram.flows.fan_out_post` / `remove_post`; this module only decodes the batch, picks
the flow and reports the first failed record of each partition (ReportBatchItemFailures).
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
    if event.type == flows.POST_CREATED:
        outcome = flows.fan_out_post(resources.connection(), resources.feeds, resources.presence, event)
    elif event.type == flows.POST_DELETED:
        outcome = flows.remove_post(resources.connection(), resources.feeds, resources.presence, event)
    else:  # the template's filter lets only these through; anything else is not ours
        logger.debug("ignored", extra={"type": event.type})
        return
    logger.info(event.type, extra={"event_id": event.id, "duplicate": outcome.duplicate,
                                   "followers": outcome.followers, "timelines": outcome.written,
                                   "large_account": outcome.large_account, "notified": len(outcome.notified)})


@logger.inject_lambda_context
@event_source(data_class=KafkaEvent)
def handler(event: KafkaEvent, context: LambdaContext) -> dict[str, Any]:
    deliveries = [flows.Delivery(f"{r.topic}-{r.partition}", r.offset, None if r.value is None else r.decoded_value)
                  for r in event.records]
    return flows.batch_response(flows.apply_in_order(deliveries, apply, resources))
