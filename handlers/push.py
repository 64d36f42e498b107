"""Push: timeline-updated and notification-created -> the recipient's open WebSockets, through API
Gateway's management API at WEBSOCKET_ENDPOINT (the stage's https URL). Logic:
`kafkagram.flows.push.push_all`; a failed send retries the batch from its event, so a connection may
get an update twice (clients de-duplicate by the envelope's id)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from kafkagram.batches import handle_batch_together
from kafkagram.clients import Clients
from kafkagram.events import Event
from kafkagram.flows.push import PUSHED_TYPES, push_all

logger = Logger()
clients = Clients()  # settings read and clients made at the first record
# Sends in flight per sandbox: each waits on API Gateway's answer, so threads overlap the round trips.
PUSH_CONCURRENCY = 16
_pool = ThreadPoolExecutor(max_workers=PUSH_CONCURRENCY, thread_name_prefix="push")


@cache
def _management() -> Any:
    # One client per sandbox (thread-safe, one HTTP connection per concurrent send); short timeouts and
    # no retries: a slow connection must not hold the partition, and the mapping retries the record.
    return boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WEBSOCKET_ENDPOINT"],
                        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1},
                                      max_pool_connections=PUSH_CONCURRENCY))


def post(connection_id: str, data: bytes) -> bool:
    client = _management()
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
    except client.exceptions.GoneException:
        return False
    return True


def push_events(events: Sequence[Event]) -> int | None:
    report = push_all(clients.registry, post, events, _pool)
    logger.info("pushed", extra={"events": len(events), "delivered": report.delivered, "gone": len(report.gone),
                                 "first_failed": report.first_failed})
    return report.first_failed


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch_together(event, context, PUSHED_TYPES, push_events, logger)
