"""Posts, as the timeline, a profile's grid and the post page show them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from kafkagram.config import public_media_url
from kafkagram.events.catalog import CAPTION_MAX_LENGTH, MENTIONS_MAX, POST_MAX_MEDIA
from kafkagram.store.models import Post, PostMedia
from kafkagram.store.pagination import Page
from models.common import Id, Request, error, next_cursor_field
from models.mentions import limit_mentions
from models.users import UserSummaryOut

POST_FORBIDDEN = error(403, "Not the caller's post, or a media of someone else")
POST_NOT_FOUND = error(404, "No such post (or it was deleted)")
POST_CONFLICT = error(409, "A media already belongs to another post")


class CreatePostRequest(Request):
    caption: str = Field(default="", max_length=CAPTION_MAX_LENGTH,
                         description=f"@mentions (at most {MENTIONS_MAX} distinct) and #hashtags are parsed "
                                     "from it")
    media_ids: list[Id] = Field(min_length=1, max_length=POST_MAX_MEDIA,
                                description="1 to 10 of the caller's uploaded post media, in order")

    _mentions = field_validator("caption")(limit_mentions)


class VariantOut(BaseModel):
    width: int
    height: int
    object_key: str
    content_type: str
    size_bytes: int
    url: str = Field(description="where a browser loads it (the media CDN, or the S3 endpoint locally)")

    @classmethod
    def of(cls, variant: dict[str, Any]) -> VariantOut:
        return cls.model_validate(cls.fields(variant))

    @staticmethod
    def fields(variant: dict[str, Any]) -> dict[str, Any]:
        return {**variant, "url": public_media_url(variant["object_key"])}


class PostMediaOut(BaseModel):
    id: str
    width: int | None
    height: int | None
    blurhash: str | None
    variants: list[VariantOut] = Field(description="resized copies, widest first; empty until processed")

    @classmethod
    def of(cls, media: PostMedia) -> PostMediaOut:
        return cls.model_validate(cls.fields(media))

    @staticmethod
    def fields(media: PostMedia) -> dict[str, Any]:
        return {"id": str(media.id), "width": media.width, "height": media.height, "blurhash": media.blurhash,
                "variants": [VariantOut.fields(v) for v in media.variants or []]}


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
        return cls.model_validate(cls.fields(post, liked_by_me))

    @staticmethod
    def fields(post: Post, liked_by_me: bool = False) -> dict[str, Any]:
        """The model's fields as plain data: a page validates all its posts in one call (pydantic-core),
        several times faster than a model per post, author, media and variant."""
        return {"id": str(post.id), "author": UserSummaryOut.fields(post.author), "caption": post.caption,
                "status": post.status, "mentions": list(post.mentions or []), "hashtags": list(post.hashtags or []),
                "likes_count": post.likes_count, "comments_count": post.comments_count,
                "created_at": post.created_at, "published_at": post.published_at,
                "media": [PostMediaOut.fields(m) for m in post.media], "failure_reason": post.failure_reason,
                "liked_by_me": liked_by_me}


class PostPage(BaseModel):
    items: list[PostOut]
    next_cursor: str | None = next_cursor_field()

    @classmethod
    def of(cls, page: Page[Post], liked: Collection[int] = ()) -> PostPage:
        """`liked`: the ids among the page's posts that the caller likes."""
        return cls.model_validate({"items": [PostOut.fields(p, p.id in liked) for p in page.items],
                                   "next_cursor": page.next_cursor})
