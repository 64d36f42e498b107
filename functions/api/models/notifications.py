"""The caller's notifications."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kafkagram.store.models import Notification
from kafkagram.store.notifications import describe
from kafkagram.store.pagination import MAX_PAGE_SIZE, Page
from models.common import Id, Request, next_cursor_field
from models.users import UserSummaryOut, id_or_none


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
                   post_id=id_or_none(n.post_id), comment_id=id_or_none(n.comment_id), text=n.text,
                   created_at=n.created_at, updated_at=n.updated_at, read=n.read_at is not None)


class NotificationPage(BaseModel):
    items: list[NotificationOut] = Field(description="newest activity first")
    next_cursor: str | None = next_cursor_field()

    @classmethod
    def of(cls, page: Page[Notification]) -> NotificationPage:
        return cls(items=[NotificationOut.of(n) for n in page.items], next_cursor=page.next_cursor)


class UnreadCount(BaseModel):
    count: int = Field(description="unread notification groups")


class MarkReadRequest(Request):
    ids: list[Id] | None = Field(
        default=None, max_length=MAX_PAGE_SIZE,
        description="the notifications to mark read (at most one page); omit or null for all of them")


class MarkReadResult(BaseModel):
    marked: int = Field(description="how many were unread and are now read (others' ids are ignored)")
