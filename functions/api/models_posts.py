"""Request and response bodies of the media, post and timeline routes (pydantic; OpenAPI schemas).

Ids are strings on the wire (64-bit), as in models.py.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any, Literal

from models import ErrorBody, Request, UserSummaryOut
from pydantic import BaseModel, Field, StringConstraints

from kafkagram.config import public_media_url
from kafkagram.events.catalog import CAPTION_MAX_LENGTH, ID_PATTERN, POST_MAX_MEDIA
from kafkagram.media import DEFAULT_LIMITS
from kafkagram.store.models import Media, Post, PostMedia
from kafkagram.store.pagination import Page

# The layer's UPLOAD_CONTENT_TYPES as a Literal, so OpenAPI lists them (tests/api checks they agree).
UploadContentType = Literal["image/jpeg", "image/png", "image/webp"]
MAX_UPLOAD_BYTES = DEFAULT_LIMITS.max_bytes  # the processing step's limit: larger files would fail there anyway
IdString = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


MEDIA_FORBIDDEN = {403: _error("Not the caller's media")}
MEDIA_NOT_FOUND = {404: _error("No such media")}
MEDIA_CONFLICT = {409: _error("The upload was refused by processing")}
POST_FORBIDDEN = {403: _error("Not the caller's post, or a media of someone else")}
POST_NOT_FOUND = {404: _error("No such post (or media)")}
POST_CONFLICT = {409: _error("A media already belongs to another post")}
USER_NOT_FOUND = {404: _error("No such user")}


# ---------------------------------------------------------------------------------------------------
# Media


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


# ---------------------------------------------------------------------------------------------------
# Posts


class CreatePostRequest(Request):
    caption: str = Field(default="", max_length=CAPTION_MAX_LENGTH,
                         description="@mentions and #hashtags are parsed from it")
    media_ids: list[IdString] = Field(min_length=1, max_length=POST_MAX_MEDIA,
                                 description="1 to 10 of the caller's uploaded post media, in order")

    def media_id_ints(self) -> list[int]:
        return [int(media_id) for media_id in self.media_ids]


class VariantOut(BaseModel):
    width: int
    height: int
    object_key: str
    content_type: str
    size_bytes: int
    url: str = Field(description="where a browser loads it (the media CDN, or the S3 endpoint locally)")

    @classmethod
    def of(cls, variant: dict[str, Any]) -> VariantOut:
        return cls.model_validate({**variant, "url": public_media_url(variant["object_key"])})


class PostMediaOut(BaseModel):
    id: str
    width: int | None
    height: int | None
    blurhash: str | None
    variants: list[VariantOut] = Field(description="resized copies, widest first; empty until processed")

    @classmethod
    def of(cls, media: PostMedia) -> PostMediaOut:
        return cls(id=str(media.id), width=media.width, height=media.height, blurhash=media.blurhash,
                   variants=[VariantOut.of(v) for v in media.variants or []])


class PostOut(BaseModel):
    id: str
    author: UserSummaryOut
    caption: str
    status: str = Field(description="pending (media still processing), published, or failed (a media was "
                                    "refused by processing; only its author sees it)")
    mentions: list[str]
    hashtags: list[str]
    likes_count: int
    comments_count: int
    created_at: datetime
    published_at: datetime | None
    media: list[PostMediaOut]
    failure_reason: str | None = Field(default=None, description="why a failed post's media was refused, e.g. "
                                                                 "not-an-image, decompression-bomb")
    liked_by_me: bool = Field(default=False, description="whether the caller likes it")

    @classmethod
    def of(cls, post: Post, liked_by_me: bool = False) -> PostOut:
        return cls(id=str(post.id), author=UserSummaryOut.of(post.author), caption=post.caption, status=post.status,
                   mentions=list(post.mentions or []), hashtags=list(post.hashtags or []),
                   likes_count=post.likes_count, comments_count=post.comments_count, created_at=post.created_at,
                   published_at=post.published_at, media=[PostMediaOut.of(m) for m in post.media],
                   failure_reason=post.failure_reason, liked_by_me=liked_by_me)


class PostPage(BaseModel):
    items: list[PostOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")

    @classmethod
    def of(cls, page: Page[Post], liked: Collection[int] = ()) -> PostPage:
        """`liked`: the ids among the page's posts that the caller likes."""
        return cls(items=[PostOut.of(p, p.id in liked) for p in page.items], next_cursor=page.next_cursor)
