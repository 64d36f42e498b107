"""Media: an upload's life, pending -> uploaded -> ready | failed, each step emitting its event."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pg8000.native

from kafkagram.events import MEDIA_FAILED, MEDIA_PROCESSED, MEDIA_UPLOADED, new_event
from kafkagram.events.catalog import FAILURE_MESSAGE_MAX_LENGTH
from kafkagram.outbox import enqueue, require_transaction
from kafkagram.store.errors import Conflict, Forbidden, Invalid, NotFound
from kafkagram.store.models import MEDIA_COLUMNS, Media, media_from_row

PURPOSES = ("post", "avatar")
# What browsers and phones produce and processing decodes; anything else is refused before a form is signed.
UPLOAD_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
UPLOADS_PREFIX = "uploads"  # the bucket's lifecycle rule expires what is left under it (template.yaml)
_IMAGE_CONTENT_TYPE = re.compile(r"^image/[a-z0-9.+-]+$")  # as the media events' schemas require
_REASON = re.compile(r"^[a-z][a-z0-9-]*$")


def upload_key_prefix(owner_id: int) -> str:
    """Where a user's uploads go; the presigned POST policy pins the key to it."""
    return f"{UPLOADS_PREFIX}/{owner_id}/"


def create_media(conn: pg8000.native.Connection, owner_id: int, purpose: str, content_type: str,
                 size_bytes: int) -> Media:
    """A pending media whose object key is `uploads/<owner>/<id>` (no event: nothing happened yet)."""
    if purpose not in PURPOSES:
        raise Invalid("invalid-purpose", f"purpose must be one of {', '.join(PURPOSES)}")
    _check_upload(content_type, size_bytes)
    rows = conn.run(f"WITH new AS (SELECT next_id() AS id) "
                    f"INSERT INTO media AS m (id, owner_id, purpose, content_type, size_bytes, object_key) "
                    f"SELECT id, :owner, :purpose, :content_type, :size, :prefix || id FROM new "
                    f"RETURNING {MEDIA_COLUMNS}",
                    owner=owner_id, purpose=purpose, content_type=content_type, size=size_bytes,
                    prefix=upload_key_prefix(owner_id))
    return media_from_row(rows[0])


def _check_upload(content_type: str, size_bytes: int) -> None:
    if not _IMAGE_CONTENT_TYPE.match(content_type):
        raise Invalid("invalid-content-type", "only image content types can be uploaded")
    if size_bytes < 1:
        raise Invalid("invalid-size", "size_bytes must be positive")


def check_stored_upload(content_type: str, size_bytes: int, max_bytes: int) -> None:
    """The object S3 stored is within the upload rules (a client may have put something else at its key)."""
    if not 1 <= size_bytes <= max_bytes:
        raise Invalid("invalid-size", f"the upload must be 1 to {max_bytes} bytes")
    if content_type not in UPLOAD_CONTENT_TYPES:
        raise Invalid("invalid-content-type", f"the upload must be one of {', '.join(UPLOAD_CONTENT_TYPES)}")


def get_media(conn: pg8000.native.Connection, media_id: int, *, for_update: bool = False) -> Media:
    lock = " FOR UPDATE" if for_update else ""
    rows = conn.run(f"SELECT {MEDIA_COLUMNS} FROM media m WHERE m.id = :id{lock}", id=media_id)
    if not rows:
        raise NotFound("media-not-found", "no such media")
    return media_from_row(rows[0])


def _media_data(media: Media) -> dict[str, Any]:
    return {"media_id": str(media.id), "owner_id": str(media.owner_id), "purpose": media.purpose}


def mark_uploaded(conn: pg8000.native.Connection, media_id: int, owner_id: int, bucket: str,
                  content_type: str, size_bytes: int) -> Media:
    """The owner finished the upload, and the caller checked the object (type and size as stored).

    Emits media-uploaded once; completing again is a no-op; a failed media cannot come back."""
    require_transaction(conn, "mark_uploaded")
    _check_upload(content_type, size_bytes)
    media = get_media(conn, media_id, for_update=True)
    if media.owner_id != owner_id:
        raise Forbidden("not-your-media", "this media belongs to someone else")
    if media.status in ("uploaded", "ready"):
        return media
    if media.status == "failed":
        raise Conflict("media-failed", "this upload was refused; upload the file again")
    rows = conn.run(f"UPDATE media AS m SET status = 'uploaded', content_type = :content_type, size_bytes = :size, "
                    f"updated_at = now() WHERE m.id = :id RETURNING {MEDIA_COLUMNS}",
                    id=media_id, content_type=content_type, size=size_bytes)
    media = media_from_row(rows[0])
    enqueue(conn, new_event(MEDIA_UPLOADED, {
        **_media_data(media), "bucket": bucket, "object_key": media.object_key,
        "content_type": media.content_type, "size_bytes": media.size_bytes}, owner_id))
    return media


def mark_ready(conn: pg8000.native.Connection, media_id: int, width: int, height: int,
               variants: list[dict[str, Any]], blurhash: str) -> Media | None:
    """Processing succeeded: store dimensions, variants and blurhash; emit media-processed.

    None when the media was not waiting for processing (already ready or failed: a redelivery)."""
    require_transaction(conn, "mark_ready")
    rows = conn.run(f"UPDATE media AS m SET status = 'ready', width = :width, height = :height, "
                    f"variants = CAST(:variants AS jsonb), blurhash = :blurhash, updated_at = now() "
                    f"WHERE m.id = :id AND m.status = 'uploaded' RETURNING {MEDIA_COLUMNS}",
                    id=media_id, width=width, height=height, variants=json.dumps(variants), blurhash=blurhash)
    if not rows:
        get_media(conn, media_id)  # NotFound when it does not exist at all
        return None
    media = media_from_row(rows[0])
    enqueue(conn, new_event(MEDIA_PROCESSED, {
        **_media_data(media), "width": width, "height": height, "blurhash": blurhash,
        "variants": variants}, None))
    return media


def mark_failed(conn: pg8000.native.Connection, media_id: int, reason: str, message: str) -> Media | None:
    """Processing refused the file (`reason` a stable code such as not-an-image); emit media-failed.

    None when the media was not waiting for processing."""
    require_transaction(conn, "mark_failed")
    if not _REASON.match(reason):
        raise Invalid("invalid-reason", "a failure reason is a lowercase code like not-an-image")
    message = message[:FAILURE_MESSAGE_MAX_LENGTH]
    rows = conn.run(f"UPDATE media AS m SET status = 'failed', failure_reason = :reason, failure_message = :message, "
                    f"updated_at = now() WHERE m.id = :id AND m.status IN ('pending', 'uploaded') "
                    f"RETURNING {MEDIA_COLUMNS}", id=media_id, reason=reason, message=message)
    if not rows:
        get_media(conn, media_id)
        return None
    media = media_from_row(rows[0])
    enqueue(conn, new_event(MEDIA_FAILED, {**_media_data(media), "reason": reason, "message": message}, None))
    return media


def object_keys(media: Sequence[Media]) -> list[str]:
    """Every object the media have in the bucket: the original under uploads/ and the variants."""
    return [key for item in media for key in (item.object_key, *(v["object_key"] for v in item.variants or []))]


# A deleted post's media go with it; the post_media rows first, in the same statement (the foreign key is
# checked at its end). Only a post already deleted: a post-deleted event never purges a live post. A media
# still 'uploaded' is being processed (its variants may be written after this): it is only detached and
# marked never attached, so the unattached sweep deletes it, variants included, once processing is done.
_DELETE_POST_MEDIA = f"""
WITH detached AS (
    DELETE FROM post_media pm USING posts p
    WHERE pm.post_id = p.id AND p.id = :post AND p.status = 'deleted' RETURNING pm.media_id
), released AS (
    UPDATE media SET attached_at = NULL WHERE id IN (SELECT media_id FROM detached) AND status = 'uploaded'
)
DELETE FROM media m USING detached WHERE m.id = detached.media_id AND m.status <> 'uploaded'
RETURNING {MEDIA_COLUMNS}
"""


def delete_post_media(conn: pg8000.native.Connection, post_id: int) -> list[Media]:
    """Delete a deleted post's media rows; returns them (their objects are the caller's to delete before
    committing). None the second time: idempotent."""
    require_transaction(conn, "delete_post_media")
    return [media_from_row(row) for row in conn.run(_DELETE_POST_MEDIA, post=post_id)]


# Never attached (migration 0006 keeps attached_at) and older than the limit. 'uploaded' media wait for
# processing: left alone. Rows a post is attaching right now are locked by it (create_post locks them):
# skipped, and that post's attachment marks them.
_DELETE_UNATTACHED = f"""
DELETE FROM media m WHERE m.id IN (
    SELECT id FROM media WHERE attached_at IS NULL AND created_at < now() - CAST(:age AS interval)
    AND status <> 'uploaded' ORDER BY created_at LIMIT :limit FOR UPDATE SKIP LOCKED
) RETURNING {MEDIA_COLUMNS}
"""


def delete_unattached(conn: pg8000.native.Connection, older_than: timedelta, limit: int) -> list[Media]:
    """Delete up to `limit` media that were never attached to a post or made an avatar and are older than
    `older_than`; returns them (their objects are the caller's to delete before committing)."""
    require_transaction(conn, "delete_unattached")
    rows = conn.run(_DELETE_UNATTACHED, age=f"{older_than.total_seconds()} seconds", limit=limit)
    return [media_from_row(row) for row in rows]
