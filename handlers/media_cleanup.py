"""Media cleanup (logic: `kafkagram.flows.media_cleanup`):
- post-deleted on post-events -> the post's media rows, their objects in the media bucket and, on AWS,
  their copies in CloudFront (MEDIA_DISTRIBUTION_ID);
- media-processed on media-events -> one sweep per run of them: media never attached to a post or
  avatar for UNATTACHED_MEDIA_TTL are deleted the same way. Unattached media only appear through uploads,
  so their processing is the occasion; no schedule needed (the local runtime runs none).
An S3 or CloudFront error fails the record or run, which the event source mapping retries (a redelivery
after success finds nothing left to delete)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch_in_runs
from kafkagram.clients import Clients
from kafkagram.events import MEDIA_PROCESSED, POST_DELETED, Event
from kafkagram.flows.media_cleanup import purge_post_media, sweep_unattached_media
from kafkagram.observability import metrics

logger = Logger()
clients = Clients()  # the database connection, made at the first record


def on_posts_deleted(events: Sequence[Event]) -> None:
    for event in events:
        purged = purge_post_media(clients.database, event)
        logger.info(event.type, extra={"event_id": event.id, "media": purged.media_ids, "objects": purged.objects,
                                       "invalidation": purged.invalidation})


def on_media_processed(events: Sequence[Event]) -> None:
    swept = sweep_unattached_media(clients.database)
    logger.info("unattached media swept", extra={"events": len(events), "media": swept.media_ids,
                                                 "objects": swept.objects, "invalidation": swept.invalidation})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch_in_runs(event, context, {POST_DELETED: on_posts_deleted, MEDIA_PROCESSED: on_media_processed},
                                logger, clients.database)
