"""Uploads as the API makes them (a media row, the object in S3, then media-uploaded), for the tests
of the media handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kafkagram.db import transaction
from kafkagram.store import media
from kafkagram.store.models import User
from tests.support.store import make_user

BUCKET = "kafkagram-media"


def s3_environment(s3_endpoint: str, bucket: str = BUCKET) -> dict[str, str]:
    """What a function's environment says about S3 under the local runtime: the emulator, the bucket,
    and test credentials (the emulator checks their signatures, not who they are)."""
    return {"AWS_ENDPOINT_URL_S3": s3_endpoint, "MEDIA_BUCKET": bucket, "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class Upload:
    media_id: int
    owner: User
    event: dict[str, Any]  # the media-uploaded event from the outbox


def outbox_events(db: Any, type_name: str, media_id: int) -> list[dict[str, Any]]:
    rows = db.run("SELECT payload FROM outbox WHERE payload->>'type' = :type "
                  "AND payload->'data'->>'media_id' = :id ORDER BY id", type=type_name, id=str(media_id))
    return [row[0] for row in rows]


def upload(db: Any, s3: Any, data: bytes, content_type: str = "image/jpeg", *, owner: User | None = None,
           purpose: str = "post") -> Upload:
    """What POST /media and /complete do: a media row, the object in S3, then media-uploaded."""
    owner = owner or make_user(db)
    with transaction(db):
        item = media.create_media(db, owner.id, purpose, content_type, len(data))
    s3.put_object(Bucket=BUCKET, Key=item.object_key, Body=data, ContentType=content_type)
    with transaction(db):
        media.mark_uploaded(db, item.id, owner.id, BUCKET, content_type, len(data))
    [event] = outbox_events(db, "media-uploaded", item.id)
    return Upload(item.id, owner, event)


def variant_keys(s3: Any, media_id: int) -> list[str]:
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"media/{media_id}/")
    return sorted(item["Key"] for item in listing.get("Contents", []))
