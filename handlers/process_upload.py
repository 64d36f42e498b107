"""Upload processing (media-uploaded): the original from S3 becomes web variants and a blurhash, and
the media is marked ready (media-processed), or failed with the reason (media-failed).

Idempotent: a media no longer waiting for processing is skipped before any work, and the marker
(`processed_events`) and the state change commit in one transaction, so a redelivery has no second
effect. Variants are written before that commit: a failed commit is retried and writes the same keys.
A refused upload writes nothing to S3. The original stays under uploads/ and expires with the
bucket's lifecycle rule (kafkagram.storage). Transient errors (S3, PostgreSQL) raise: the record is
reported failed and the event source mapping delivers it again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram import storage
from kafkagram.events import Event
from kafkagram.handlers_common import EventData, event_data, handle_batch, transaction
from kafkagram.idempotency import first_time
from kafkagram.media import DEFAULT_LIMITS, ImageRejected, RejectReason, process_image
from kafkagram.store.media import get_media, mark_failed, mark_ready

logger = Logger()
CONSUMER = "process-upload"
MISSING_UPLOAD = "missing-upload"
MIB = 1024 * 1024


class MediaUploaded(EventData):
    media_id: int
    bucket: str
    object_key: str
    content_type: str


def on_media_uploaded(event: Event) -> None:
    data = event_data(event, MediaUploaded)
    with transaction() as conn:
        status = get_media(conn, data.media_id).status
    if status != "uploaded":  # ready or failed already: a redelivery; don't decode again
        logger.info("already processed", extra={"media_id": data.media_id, "status": status})
        return
    try:
        image = process_image(_original(data), declared_content_type=data.content_type)
    except ImageRejected as rejected:
        _refuse(event, data.media_id, rejected.reason.value.replace("_", "-"), rejected.message)
        return
    except storage.ObjectMissing:
        _refuse(event, data.media_id, MISSING_UPLOAD, "The upload is gone; please upload the file again.")
        return
    variants = storage.put_variants(storage.media_bucket(), data.media_id, image.variants)
    with transaction() as conn:
        if first_time(conn, CONSUMER, event.id):
            mark_ready(conn, data.media_id, image.width, image.height, variants, image.blurhash)
    logger.info("media ready", extra={"media_id": data.media_id, "variants": len(variants)})


def _original(data: MediaUploaded) -> bytes:
    try:
        return storage.read_object(data.bucket, data.object_key, DEFAULT_LIMITS.max_bytes)
    except storage.ObjectTooLarge as error:
        # The same refusal process_image gives, without reading the body.
        message = f"The file is {error.size / MIB:.1f} MB; the limit is {error.limit / MIB:.0f} MB."
        raise ImageRejected(RejectReason.TOO_LARGE, message) from error


def _refuse(event: Event, media_id: int, reason: str, message: str) -> None:
    with transaction() as conn:
        if first_time(conn, CONSUMER, event.id):
            mark_failed(conn, media_id, reason, message)
    logger.info("media refused", extra={"media_id": media_id, "reason": reason})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(handle_batch(event, context, {"media-uploaded": on_media_uploaded}, logger))
