"""Media that should be gone: a deleted post's pictures, and uploads never attached to anything.

    purge_post_media        post-deleted            the post's media rows, objects and CDN copies
    sweep_unattached_media  media-processed (runs)  media never attached, older than UNATTACHED_MEDIA_TTL

Both run in handlers/media_cleanup.py, at least once and idempotent (a redelivery finds no rows left),
never in an API request. Both delete the rows first, then the objects (and invalidate the CDN), then
commit: when S3 or CloudFront fails, the transaction rolls back and the rows are there for the retry
(deleting an object twice is harmless); a post attaching a media at that moment waits for the row lock
and then finds it gone.

The sweep needs no schedule: unattached media only appear through uploads, so each run of
media-processed records is its occasion (the local runtime runs no scheduled functions; this way the same
code runs locally and on AWS). Originals under uploads/ also expire by the bucket's lifecycle rule
(template.yaml, AbandonedUploadDays), whatever happens to their rows. Media still being processed are
left alone by both: a purge only detaches them, and the sweep takes them once they are processed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from kafkagram import storage
from kafkagram.db import Database
from kafkagram.events import Event
from kafkagram.events.reading import PostDeleted, read_data
from kafkagram.store import media as media_store

UNATTACHED_MEDIA_TTL = timedelta(hours=24)  # an upload not in a post (or avatar) by then never will be
SWEEP_LIMIT = 100  # media per sweep: bounds the time an upload batch spends on it


@dataclass(frozen=True)
class Cleanup:
    media_ids: list[int] = field(default_factory=list)
    objects: int = 0
    invalidation: str | None = None  # the CloudFront invalidation's id, on AWS


def purge_post_media(database: Database, event: Event) -> Cleanup:
    """post-deleted: delete the post's media, their objects, and their copies in the CDN."""
    data = read_data(event, PostDeleted)
    with database.transaction() as conn:
        gone = media_store.delete_post_media(conn, data.post_id)
        keys = media_store.object_keys(gone)
        objects = storage.delete_objects(storage.media_bucket(), keys) if keys else 0
        invalidation = storage.invalidate_cdn(storage.cdn_paths(keys), reference=event.id)
    return Cleanup([item.id for item in gone], objects, invalidation)


def sweep_unattached_media(database: Database, older_than: timedelta = UNATTACHED_MEDIA_TTL,
                           limit: int = SWEEP_LIMIT) -> Cleanup:
    """Delete up to `limit` media never attached and older than `older_than`, with their objects and CDN
    copies (their owner may have looked at a variant before giving up on the post)."""
    with database.transaction() as conn:
        gone = media_store.delete_unattached(conn, older_than, limit)
        if not gone:
            return Cleanup()
        keys = media_store.object_keys(gone)
        objects = storage.delete_objects(storage.media_bucket(), keys)
        ids = sorted(item.id for item in gone)
        invalidation = storage.invalidate_cdn(storage.cdn_paths(keys), reference=f"sweep-{ids[0]}-{ids[-1]}-{len(ids)}")
    return Cleanup(ids, objects, invalidation)
