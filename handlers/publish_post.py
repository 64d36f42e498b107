"""Post publication: media-processed and media-failed on media-events -> posts published
(post-created) or failed, and processed avatars applied (profile-updated). Logic:
`kafkagram.flows.publish`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch
from kafkagram.clients import Clients
from kafkagram.events import MEDIA_FAILED, MEDIA_PROCESSED, Event
from kafkagram.flows.publish import PublishOutcome, media_failed, media_processed
from kafkagram.observability import metrics

logger = Logger()
clients = Clients()  # the database connection, made at the first record


def on_media_processed(event: Event) -> None:
    _log(event, media_processed(clients.database, event))


def on_media_failed(event: Event) -> None:
    _log(event, media_failed(clients.database, event))


def _log(event: Event, outcome: PublishOutcome) -> None:
    logger.info(event.type, extra={"event_id": event.id, "duplicate": outcome.duplicate,
                                   "published": outcome.published, "failed": outcome.failed,
                                   "avatar_set": outcome.avatar_set})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, {MEDIA_PROCESSED: on_media_processed, MEDIA_FAILED: on_media_failed},
                        logger, clients.database)
