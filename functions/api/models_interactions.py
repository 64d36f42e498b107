"""Request and response bodies of likes, comments and notifications (pydantic; also OpenAPI schemas).

Kept apart from models.py so the routes that share it can change without touching this; the same
conventions hold: requests forbid unknown fields, ids are strings on the wire (64-bit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from models import Request, UserSummaryOut, _error
from pydantic import AfterValidator, BaseModel, Field

from kafkagram.events.catalog import COMMENT_MAX_LENGTH, ID_PATTERN
from kafkagram.store import NotFound
from kafkagram.store.models import Comment, Notification
from kafkagram.store.notifications import describe
from kafkagram.store.pagination import MAX_ID, MAX_PAGE_SIZE, Page

POST_NOT_FOUND = {404: _error("No such post (or it was deleted)")}
COMMENT_NOT_FOUND = {404: _error("No such post or comment")}
FORBIDDEN = {403: _error("Only the comment's author or the post's author may delete it")}

PostId = Annotated[str, Path(pattern=ID_PATTERN, description="the post's id")]
CommentId = Annotated[str, Path(pattern=ID_PATTERN, description="the comment's id")]


def db_id(value: str, code: str, message: str) -> int:
    """A path id as the bigint it names; the pattern allows 19 digits, so values past bigint name
    nothing (404) rather than failing in PostgreSQL."""
    number = int(value)
    if number > MAX_ID:
        raise NotFound(code, message)
    return number


def _within_bigint(value: str) -> str:
    if int(value) > MAX_ID:
        raise ValueError("not a notification id")
    return value


NotificationIdIn = Annotated[str, Field(pattern=ID_PATTERN), AfterValidator(_within_bigint)]


# ---------------------------------------------------------------------------------------------------
# Comments


class AddCommentRequest(Request):
    # The store strips and re-checks (a blank comment is `empty-comment`); bounds here reach the schema.
    body: str = Field(min_length=1, max_length=COMMENT_MAX_LENGTH,
                      description=f"1 to {COMMENT_MAX_LENGTH} characters; @mentions notify existing users")


class CommentOut(BaseModel):
    id: str
    post_id: str
    author: UserSummaryOut
    body: str
    created_at: datetime

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        return cls(id=str(comment.id), post_id=str(comment.post_id), author=UserSummaryOut.of(comment.author),
                   body=comment.body, created_at=comment.created_at)


class CommentPage(BaseModel):
    items: list[CommentOut] = Field(description="oldest first (conversation order)")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")

    @classmethod
    def of(cls, page: Page[Comment]) -> CommentPage:
        return cls(items=[CommentOut.of(c) for c in page.items], next_cursor=page.next_cursor)


# ---------------------------------------------------------------------------------------------------
# Notifications


class NotificationOut(BaseModel):
    id: str
    kind: str = Field(description="like, comment, follow or mention")
    description: str = Field(description='what to show, e.g. "ada and 3 others liked your post"')
    actors: list[UserSummaryOut] = Field(description="the newest few actors, newest first")
    actor_count: int = Field(description="every distinct actor of the group")
    post_id: str | None
    comment_id: str | None
    text: str | None = Field(description="an excerpt (the comment), or null")
    created_at: datetime
    updated_at: datetime
    read: bool

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(id=str(n.id), kind=n.kind, description=describe(n),
                   actors=[UserSummaryOut.of(a) for a in n.actors], actor_count=n.actor_count,
                   post_id=_id_or_none(n.post_id), comment_id=_id_or_none(n.comment_id), text=n.text,
                   created_at=n.created_at, updated_at=n.updated_at, read=n.read_at is not None)


class NotificationPage(BaseModel):
    items: list[NotificationOut] = Field(description="newest activity first")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")

    @classmethod
    def of(cls, page: Page[Notification]) -> NotificationPage:
        return cls(items=[NotificationOut.of(n) for n in page.items], next_cursor=page.next_cursor)


class UnreadCount(BaseModel):
    count: int = Field(description="unread notification groups")


class MarkReadRequest(Request):
    ids: list[NotificationIdIn] | None = Field(
        default=None, max_length=MAX_PAGE_SIZE,
        description="the notifications to mark read (at most one page); omit or null for all of them")

    def notification_ids(self) -> list[int] | None:
        return None if self.ids is None else [int(i) for i in self.ids]


class MarkReadResult(BaseModel):
    marked: int = Field(description="how many were unread and are now read (others' ids are ignored)")


def _id_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)

