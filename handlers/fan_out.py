"""Fan-out: post-created and post-deleted on post-events -> home timelines and live updates
(logic: `kafkagram.flows.fan_out`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch_in_runs
from kafkagram.clients import Clients
from kafkagram.events import POST_CREATED, POST_DELETED, Event
from kafkagram.flows.fan_out import FanOutOutcome, fan_out_posts, remove_post
from kafkagram.observability import count, metrics

logger = Logger()
clients = Clients()  # settings read and clients made at the first record


def on_posts_created(events: Sequence[Event]) -> None:
    for event, outcome in zip(events, fan_out_posts(clients.database, clients.feeds, clients.registry, events),
                              strict=True):
        _log(event, outcome)


def on_posts_deleted(events: Sequence[Event]) -> None:
    for event in events:
        _log(event, remove_post(clients.database, clients.feeds, clients.registry, event))


def _log(event: Event, outcome: FanOutOutcome) -> None:
    logger.info(event.type, extra={"event_id": event.id, "duplicate": outcome.duplicate,
                                   "followers": outcome.followers, "timelines": outcome.written,
                                   "large_account": outcome.large_account, "notified": len(outcome.notified)})
    if not outcome.duplicate:
        count("PostsFannedOut" if event.type == POST_CREATED else "PostsRemoved")
        count("TimelinesWritten", outcome.written)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A run of post-created records is fanned out together: a few round trips for the whole run.
    return handle_batch_in_runs(event, context, {POST_CREATED: on_posts_created, POST_DELETED: on_posts_deleted},
                                logger, clients.database)
