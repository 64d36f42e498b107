"""Uploads: a presigned POST form for one object key, then `complete` once the browser has sent it.

The file never passes through the API: S3 (or the local emulator, which enforces the same policy)
checks the form's conditions. `complete` then looks at the stored object itself, since the client's
declared type and size prove nothing, and hands it to processing (media-uploaded).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import deps
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from errors import ApiError
from models import AUTHENTICATED, responses, success
from models_posts import (
    MAX_UPLOAD_BYTES,
    MEDIA_CONFLICT,
    MEDIA_FORBIDDEN,
    MEDIA_NOT_FOUND,
    UPLOAD_CONTENT_TYPES,
    CreateMediaRequest,
    MediaOut,
    MediaUpload,
    PresignedPost,
)

from kafkagram.events.catalog import ID_PATTERN
from kafkagram.store import media as media_store
from kafkagram.store.errors import Forbidden
from kafkagram.store.models import Media
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["media"]
# 200, not 202: tests/api/test_api_openapi.py admits only 200/201/204 as documented successes (any other
# documented code must be an ErrorBody). Change this one constant if that test comes to allow 202.
COMPLETE_STATUS = 200
UPLOAD_EXPIRES_S = 10 * 60  # long enough for a phone on a slow link, short enough to be useless if leaked
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})

MediaId = Annotated[str, Path(pattern=ID_PATTERN, description="media id")]


@lru_cache(maxsize=4)
def _s3(endpoint_url: str | None) -> Any:
    # Imported here: boto3 costs ~1 s of cold start that requests other than uploads should not pay.
    import boto3
    from botocore.config import Config

    # Presigned POST policies must be SigV4 (botocore's default for them is the legacy v2 signature).
    config = Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 3},
                    connect_timeout=5, read_timeout=10)
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


def s3_client() -> Any:
    """One client per sandbox and endpoint (AWS_ENDPOINT_URL_S3 locally, unset on AWS)."""
    return _s3(deps.settings().aws_endpoint_url_s3)


@router.post("/api/media", status_code=201, tags=TAGS, summary="Start an upload: a presigned POST form",
             security=BEARER, responses=responses(success(201, "Created"), AUTHENTICATED))
def create_media(body: CreateMediaRequest, caller: Caller) -> Response[MediaUpload]:
    media = deps.write(lambda conn: media_store.create_media(conn, caller, body.purpose, body.content_type, body.size))
    form = s3_client().generate_presigned_post(
        Bucket=deps.settings().media_bucket, Key=media.object_key,  # the key is under uploads/<caller>/
        Fields={"Content-Type": media.content_type},
        Conditions=[{"Content-Type": media.content_type}, ["content-length-range", 1, MAX_UPLOAD_BYTES]],
        ExpiresIn=UPLOAD_EXPIRES_S)
    upload = MediaUpload(media=MediaOut.of(media), upload=PresignedPost(url=form["url"], fields=form["fields"]),
                         expires_in=UPLOAD_EXPIRES_S, max_bytes=MAX_UPLOAD_BYTES)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=upload)


@router.post("/api/media/<media_id>/complete", status_code=COMPLETE_STATUS, tags=TAGS,
             summary="Finish an upload: the stored object is checked and sent to processing", security=BEARER,
             responses=responses(success(COMPLETE_STATUS, "Accepted: the media is being processed"),
                                 AUTHENTICATED, MEDIA_FORBIDDEN, MEDIA_NOT_FOUND, MEDIA_CONFLICT))
def complete_media(media_id: MediaId, caller: Caller) -> Response[MediaOut]:
    media = deps.read(lambda conn: media_store.get_media(conn, int(media_id)))
    if media.owner_id != caller:  # before touching S3: nobody learns about others' objects
        raise Forbidden("not-your-media", "this media belongs to someone else")
    bucket = deps.settings().media_bucket
    if media.status == "pending":
        content_type, size = _stored_object(bucket, media)
    else:
        content_type, size = media.content_type, media.size_bytes  # already completed: idempotent no-op
    done = deps.write(lambda conn: media_store.mark_uploaded(conn, media.id, caller, bucket, content_type, size))
    return Response(status_code=COMPLETE_STATUS, content_type=content_types.APPLICATION_JSON, body=MediaOut.of(done))


def _stored_object(bucket: str, media: Media) -> tuple[str, int]:
    """The object's real type and size as S3 stored them; refused unless within the upload rules."""
    from botocore.exceptions import ClientError  # loaded with the client, by s3_client()

    client = s3_client()
    try:
        head = client.head_object(Bucket=bucket, Key=media.object_key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING_CODES:
            raise ApiError(400, "upload-missing", "nothing was uploaded for this media; send the form first") from None
        raise
    size = int(head.get("ContentLength", 0))
    content_type = str(head.get("ContentType") or "").split(";")[0].strip().lower()
    if not 1 <= size <= MAX_UPLOAD_BYTES:
        raise ApiError(400, "invalid-size", f"the upload must be 1 to {MAX_UPLOAD_BYTES} bytes")
    if content_type not in UPLOAD_CONTENT_TYPES:
        raise ApiError(400, "invalid-content-type", f"the upload must be one of {', '.join(UPLOAD_CONTENT_TYPES)}")
    return content_type, size
