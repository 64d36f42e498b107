"""Push (issue 4, handler 7): timeline-updated and notification-created -> the user's open WebSockets.

The logic is `kafkagram.connections.push`; this module decodes the batch, posts through API Gateway's
management API (`WEBSOCKET_ENDPOINT`, the stage's https URL) and reports the first failed record of
each partition (ReportBatchItemFailures). Connections that answer GoneException (410) are dropped
from the registry. A retried record may reach a connection twice (see `connections.push`).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import KafkaEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from kafkagram import flows
from kafkagram.connections import ConnectionRegistry, push
from kafkagram.events import Event

logger = Logger()
resources = flows.Resources()  # settings read and clients made at the first record


@cache
def _management() -> Any:
    # One client per sandbox; short timeouts and no retries: a slow connection must not hold the
    # partition, and the mapping retries the record anyway.
    return boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WEBSOCKET_ENDPOINT"],
                        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}))


@cache
def _registry() -> ConnectionRegistry:
    return ConnectionRegistry(resources.redis, resources.key_prefix)


def post(connection_id: str, data: bytes) -> bool:
    client = _management()
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
    except client.exceptions.GoneException:
        return False
    return True


def apply(event: Event) -> None:
    outcome = push(_registry(), post, event)
    logger.info(event.type, extra={"event_id": event.id, "user_id": outcome.user_id,
                                   "delivered": outcome.delivered, "gone": len(outcome.gone)})


@logger.inject_lambda_context
@event_source(data_class=KafkaEvent)
def handler(event: KafkaEvent, context: LambdaContext) -> dict[str, Any]:
    deliveries = [flows.Delivery(f"{r.topic}-{r.partition}", r.offset, None if r.value is None else r.decoded_value)
                  for r in event.records]
    return flows.batch_response(flows.apply_in_order(deliveries, apply))
