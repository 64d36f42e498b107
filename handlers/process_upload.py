"""Upload processing: media-uploaded on media-events -> web variants and a blurhash (media-processed),
or a refusal with its reason (media-failed). Logic: `kafkagram.flows.uploads.process_upload`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch
from kafkagram.clients import Clients
from kafkagram.events import MEDIA_UPLOADED, Event
from kafkagram.flows.uploads import process_upload
from kafkagram.observability import metrics

logger = Logger()
clients = Clients()  # the database connection, made at the first record


def on_media_uploaded(event: Event) -> None:
    outcome = process_upload(clients.database, event)
    logger.info("media " + outcome.status, extra={"event_id": event.id, "variants": outcome.variants,
                                                  "reason": outcome.reason})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, {MEDIA_UPLOADED: on_media_uploaded}, logger, clients.database)
