"""Uploads: a presigned POST form for one object key, then `complete` once the browser has sent it.

The file never passes through the API: S3 (or the local emulator, which enforces the same policy)
checks the form's conditions. `complete` then looks at the stored object itself, since the client's
declared type and size prove nothing, and hands it to processing (media-uploaded).
"""

from __future__ import annotations

from typing import Annotated

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
    CreateMediaRequest,
    MediaOut,
    MediaUpload,
    PresignedPost,
)

from kafkagram.events.catalog import ID_PATTERN
from kafkagram.store import media as media_store
from kafkagram.store.errors import Forbidden
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["media"]
# 200, not 202: tests/api/test_api_openapi.py admits only 200/201/204 as documented successes (any other
# documented code must be an ErrorBody). Change this one constant if that test comes to allow 202.
COMPLETE_STATUS = 200
UPLOAD_EXPIRES_S = 10 * 60  # long enough for a phone on a slow link, short enough to be useless if leaked

MediaId = Annotated[str, Path(pattern=ID_PATTERN, description="media id")]


@router.post("/api/media", status_code=201, tags=TAGS, summary="Start an upload: a presigned POST form",
             security=BEARER, responses=responses(success(201, "Created"), AUTHENTICATED))
def create_media(body: CreateMediaRequest, caller: Caller) -> Response[MediaUpload]:
    # Imported here: boto3 costs ~1 s of cold start that requests other than uploads should not pay.
    from kafkagram import storage

    media = deps.write(lambda conn: media_store.create_media(conn, caller, body.purpose, body.content_type, body.size))
    form = storage.upload_form(deps.settings().media_bucket, media.object_key, media.content_type,
                               MAX_UPLOAD_BYTES, UPLOAD_EXPIRES_S)  # the key is under uploads/<caller>/
    upload = MediaUpload(media=MediaOut.of(media), upload=PresignedPost(url=form.url, fields=form.fields),
                         expires_in=UPLOAD_EXPIRES_S, max_bytes=MAX_UPLOAD_BYTES)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=upload)


@router.post("/api/media/<media_id>/complete", status_code=COMPLETE_STATUS, tags=TAGS,
             summary="Finish an upload: the stored object is checked and sent to processing", security=BEARER,
             responses=responses(success(COMPLETE_STATUS, "Accepted: the media is being processed"),
                                 AUTHENTICATED, MEDIA_FORBIDDEN, MEDIA_NOT_FOUND, MEDIA_CONFLICT))
def complete_media(media_id: MediaId, caller: Caller) -> Response[MediaOut]:
    from kafkagram import storage

    media = deps.read(lambda conn: media_store.get_media(conn, int(media_id)))
    if media.owner_id != caller:  # before touching S3: nobody learns about others' objects
        raise Forbidden("not-your-media", "this media belongs to someone else")
    bucket = deps.settings().media_bucket
    if media.status == "pending":
        try:
            content_type, size = storage.stored_type_and_size(bucket, media.object_key)
        except storage.ObjectMissing:
            raise ApiError(400, "upload-missing", "nothing was uploaded for this media; send the form first") from None
        media_store.check_stored_upload(content_type, size, MAX_UPLOAD_BYTES)
    else:
        content_type, size = media.content_type, media.size_bytes  # already completed: idempotent no-op
    done = deps.write(lambda conn: media_store.mark_uploaded(conn, media.id, caller, bucket, content_type, size))
    return Response(status_code=COMPLETE_STATUS, content_type=content_types.APPLICATION_JSON, body=MediaOut.of(done))


@router.get("/api/media/<media_id>", tags=TAGS, summary="One of the caller's uploads: is it processed, or why not",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, MEDIA_NOT_FOUND))
def get_media(media_id: MediaId, caller: Caller) -> MediaOut:
    media = deps.read(lambda conn: media_store.get_media(conn, int(media_id)))
    if media.owner_id != caller:  # others' uploads are not acknowledged at all
        raise ApiError(404, "media-not-found", "no such media")
    return MediaOut.of(media)
