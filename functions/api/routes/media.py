"""Uploads: a presigned POST form for one object key, then `complete` once the browser has sent it
(logic in kafkagram.flows.uploads: the file never passes through the API)."""

from __future__ import annotations

import deps
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import AUTHENTICATED, MediaId, responses, success
from models.media import (
    MEDIA_CONFLICT,
    MEDIA_FORBIDDEN,
    MEDIA_NOT_FOUND,
    CreateMediaRequest,
    MediaOut,
    MediaUpload,
    PresignedPost,
)

from kafkagram.flows import uploads
from kafkagram.store import NotFound
from kafkagram.store import media as media_store
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["media"]
# 200, not 202: tests/unit/api/test_openapi_document.py admits only 200/201/204 as documented successes (any other
# documented code must be an ErrorBody). Change this one constant if that test comes to allow 202.
COMPLETE_STATUS = 200


@router.post("/api/media", status_code=201, tags=TAGS, summary="Start an upload: a presigned POST form",
             security=BEARER, responses=responses(success(201, "Created"), AUTHENTICATED))
def create_media(body: CreateMediaRequest, caller: Caller) -> Response[MediaUpload]:
    started = deps.write(lambda conn: uploads.start_upload(conn, deps.settings().media_bucket, caller, body.purpose,
                                                           body.content_type, body.size))
    upload = MediaUpload(media=MediaOut.of(started.media),
                         upload=PresignedPost(url=started.form.url, fields=started.form.fields),
                         expires_in=uploads.UPLOAD_EXPIRES_S, max_bytes=uploads.MAX_UPLOAD_BYTES)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=upload)


@router.post("/api/media/<media_id>/complete", status_code=COMPLETE_STATUS, tags=TAGS,
             summary="Finish an upload: the stored object is checked and sent to processing", security=BEARER,
             responses=responses(success(COMPLETE_STATUS, "Accepted: the media is being processed"),
                                 AUTHENTICATED, MEDIA_FORBIDDEN, MEDIA_NOT_FOUND, MEDIA_CONFLICT))
def complete_media(media_id: MediaId, caller: Caller) -> Response[MediaOut]:
    media = uploads.complete_upload(deps.clients().database, deps.settings().media_bucket, media_id, caller)
    return Response(status_code=COMPLETE_STATUS, content_type=content_types.APPLICATION_JSON, body=MediaOut.of(media))


@router.get("/api/media/<media_id>", tags=TAGS, summary="One of the caller's uploads: is it processed, or why not",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, MEDIA_NOT_FOUND))
def get_media(media_id: MediaId, caller: Caller) -> MediaOut:
    media = deps.read(lambda conn: media_store.get_media(conn, media_id))
    if media.owner_id != caller:  # others' uploads are not acknowledged at all
        raise NotFound("media-not-found", "no such media")
    return MediaOut.of(media)
