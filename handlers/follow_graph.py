"""Follow graph (issue 4, handler 4): user-followed / user-unfollowed on user-events -> the follower's
home timeline gains (backfill) or loses (unmerge) the followee's posts.

The logic is `kafkagram.flows.backfill_follow` / `remove_follow`; this module only picks the flow per
event type (`handle_batch` decodes the batch and reports failures).
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


def on_followed(event: Event) -> None:
    _log(event, flows.backfill_follow(resources.connection(), resources.feeds, event))


def on_unfollowed(event: Event) -> None:
    _log(event, flows.remove_follow(resources.connection(), resources.feeds, event))


def _log(event: Event, outcome: flows.FollowOutcome) -> None:
    logger.info(event.type, extra={"event_id": event.id, "posts": outcome.changed, "stale": outcome.stale})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, {flows.USER_FOLLOWED: on_followed, flows.USER_UNFOLLOWED: on_unfollowed},
                        logger, on_failure=resources.discard_connection)
