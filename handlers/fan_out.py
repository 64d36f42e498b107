"""Fan-out (issue 4, handler 3): post-created and post-deleted on post-events -> home timelines.

The logic is `kafkagram.flows.fan_out_post` / `remove_post`; this module only picks the flow per event
type (`handle_batch` decodes the batch and reports failures).
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


def on_post_created(event: Event) -> None:
    _log(event, flows.fan_out_post(resources.connection(), resources.feeds, resources.presence, event))


def on_post_deleted(event: Event) -> None:
    _log(event, flows.remove_post(resources.connection(), resources.feeds, resources.presence, event))


def _log(event: Event, outcome: flows.FanOutOutcome) -> None:
    logger.info(event.type, extra={"event_id": event.id, "duplicate": outcome.duplicate,
                                   "followers": outcome.followers, "timelines": outcome.written,
                                   "large_account": outcome.large_account, "notified": len(outcome.notified)})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, {flows.POST_CREATED: on_post_created, flows.POST_DELETED: on_post_deleted},
                        logger, on_failure=resources.discard_connection)
