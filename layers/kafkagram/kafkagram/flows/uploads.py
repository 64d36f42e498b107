"""An upload's life: a presigned POST form (the file goes straight from the browser to S3), the
completion check of what S3 stored, then processing into web variants and a blurhash.

    start_upload     POST /api/media            pending, and a form for uploads/<owner>/<media id>
    complete_upload  POST /api/media/{id}/complete   uploaded (media-uploaded)
    process_upload   media-uploaded             ready (media-processed) or failed (media-failed)

The client's declared type and size prove nothing: the form's policy makes S3 refuse anything else,
and completion checks the stored object itself. Processing decodes with Pillow under limits (see
`kafkagram.media`); the original stays under uploads/ and expires with the bucket's lifecycle rule.

Processing reads the object its media row names, never the key an event carries. It is idempotent:
a media no longer waiting (or deleted) is skipped before any work, and the marker
(`processed_events`) and the state change commit in one transaction. Variants are written before that
commit: a retry after a failed commit writes the same keys. A refused upload writes nothing to S3.
Transient errors (S3, PostgreSQL) raise: the record is reported failed and delivered again.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkagram import storage
from kafkagram.db import Connection, Database
from kafkagram.events import Event
from kafkagram.events.reading import MediaUploaded, read_data
from kafkagram.idempotency import first_time
from kafkagram.media import DEFAULT_LIMITS, ImageRejected, RejectReason, process_image
from kafkagram.store import Forbidden, Invalid, NotFound
from kafkagram.store import media as media_store
from kafkagram.store.models import Media

CONSUMER = "process-upload"  # its name in processed_events
MAX_UPLOAD_BYTES = DEFAULT_LIMITS.max_bytes  # processing's own limit: larger files would fail there anyway
UPLOAD_EXPIRES_S = 10 * 60  # long enough for a phone on a slow link, short enough to be useless if leaked
MISSING_UPLOAD = "missing-upload"
GONE = "gone"  # the outcome for a media deleted before (or while) it was processed
MIB = 1024 * 1024


@dataclass(frozen=True)
class StartedUpload:
    media: Media
    form: storage.UploadForm


def start_upload(conn: Connection, bucket: str, owner_id: int, purpose: str, content_type: str,
                 size: int) -> StartedUpload:
    """A pending media and the form that stores exactly one object of this type at its key."""
    media = media_store.create_media(conn, owner_id, purpose, content_type, size)
    form = storage.upload_form(bucket, media.object_key, media.content_type, MAX_UPLOAD_BYTES, UPLOAD_EXPIRES_S)
    return StartedUpload(media, form)


def complete_upload(database: Database, bucket: str, media_id: int, owner_id: int) -> Media:
    """The owner says the form was sent: the stored object is checked and handed to processing
    (media-uploaded, once; completing again changes nothing)."""
    media = database.read(lambda conn: media_store.get_media(conn, media_id))
    if media.owner_id != owner_id:  # before touching S3: nobody learns about others' objects
        raise Forbidden("not-your-media", "this media belongs to someone else")
    if media.status == "pending":
        try:
            content_type, size = storage.stored_type_and_size(bucket, media.object_key)
        except storage.ObjectMissing:
            raise Invalid("upload-missing", "nothing was uploaded for this media; send the form first") from None
        media_store.check_stored_upload(content_type, size, MAX_UPLOAD_BYTES)
    else:
        content_type, size = media.content_type, media.size_bytes
    with database.transaction() as conn:
        return media_store.mark_uploaded(conn, media.id, owner_id, bucket, content_type, size)


@dataclass(frozen=True)
class ProcessOutcome:
    status: str  # ready, failed, or the status it already had (a redelivery: nothing done)
    variants: int = 0
    reason: str | None = None


def process_upload(database: Database, event: Event) -> ProcessOutcome:
    """media-uploaded: decode the original, write the variants, mark the media ready; or refuse it.

    Only the media id is taken from the event: the object read is the one the media row names, in the
    function's own bucket (an event naming someone else's object, or another bucket, reads nothing of it)."""
    media_id = read_data(event, MediaUploaded).media_id
    try:
        media = database.read(lambda conn: media_store.get_media(conn, media_id))
    except NotFound:  # deleted before processing (its post deleted, or swept): nothing to do
        return ProcessOutcome(GONE)
    if media.status != "uploaded":  # ready or failed already: a redelivery; don't decode again
        return ProcessOutcome(media.status)
    bucket = storage.media_bucket()
    try:
        image = process_image(_original(bucket, media.object_key), declared_content_type=media.content_type)
    except ImageRejected as rejected:
        return _refuse(database, event, media.id, rejected.reason.value.replace("_", "-"), rejected.message)
    except storage.ObjectMissing:
        return _refuse(database, event, media.id, MISSING_UPLOAD,
                       "The upload is gone; please upload the file again.")
    variants = storage.put_variants(bucket, media.id, image.variants)
    try:
        with database.transaction() as conn:
            if first_time(conn, CONSUMER, event.id):
                media_store.mark_ready(conn, media.id, image.width, image.height, variants, image.blurhash)
    except NotFound:  # its owner's account deleted meanwhile (purges and sweeps leave 'uploaded' media alone)
        return ProcessOutcome(GONE)
    return ProcessOutcome("ready", variants=len(variants))


def _original(bucket: str, key: str) -> bytes:
    try:
        return storage.read_object(bucket, key, DEFAULT_LIMITS.max_bytes)
    except storage.ObjectTooLarge as error:
        # The same refusal process_image gives, without reading the body.
        message = f"The file is {error.size / MIB:.1f} MB; the limit is {error.limit / MIB:.0f} MB."
        raise ImageRejected(RejectReason.TOO_LARGE, message) from error


def _refuse(database: Database, event: Event, media_id: int, reason: str, message: str) -> ProcessOutcome:
    with database.transaction() as conn:
        if first_time(conn, CONSUMER, event.id):
            media_store.mark_failed(conn, media_id, reason, message)
    return ProcessOutcome("failed", reason=reason)
