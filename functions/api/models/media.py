"""Uploads: the presigned POST form, and a media's processing state."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from kafkagram.flows.uploads import MAX_UPLOAD_BYTES
from kafkagram.store.models import Media
from models.common import Request, error

# The layer's UPLOAD_CONTENT_TYPES as a Literal, so OpenAPI lists them (tests/unit/api/test_api_models.py checks).
UploadContentType = Literal["image/jpeg", "image/png", "image/webp"]

MEDIA_FORBIDDEN = error(403, "Not the caller's media")
MEDIA_NOT_FOUND = error(404, "No such media")
MEDIA_CONFLICT = error(409, "The upload was refused by processing")


class CreateMediaRequest(Request):
    purpose: Literal["post", "avatar"]
    content_type: UploadContentType = Field(description="the file's type; the upload must send the same")
    size: int = Field(ge=1, le=MAX_UPLOAD_BYTES, description=f"bytes, at most {MAX_UPLOAD_BYTES}")


class PresignedPost(BaseModel):
    url: str = Field(description="POST a multipart/form-data form here")
    fields: dict[str, str] = Field(description="form fields to send as they are, before the `file` field")


class MediaOut(BaseModel):
    id: str
    purpose: str
    status: str = Field(description="pending, uploaded (being processed), ready or failed")
    content_type: str
    size_bytes: int
    failure_reason: str | None = Field(default=None, description="when failed: a stable code, e.g. not-an-image")
    failure_message: str | None = Field(default=None, description="when failed: why, for people")

    @classmethod
    def of(cls, media: Media) -> MediaOut:
        return cls(id=str(media.id), purpose=media.purpose, status=media.status, content_type=media.content_type,
                   size_bytes=media.size_bytes, failure_reason=media.failure_reason,
                   failure_message=media.failure_message)


class MediaUpload(BaseModel):
    media: MediaOut
    upload: PresignedPost
    expires_in: int = Field(description="seconds the form stays valid")
    max_bytes: int = Field(description="the largest file the form accepts")
