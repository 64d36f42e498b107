"""Users: summaries in lists, profiles, the caller's account and settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from kafkagram.config import public_media_url
from kafkagram.events.catalog import BIO_MAX_LENGTH, DISPLAY_NAME_MAX_LENGTH, USERNAME_PATTERN
from kafkagram.mail import email_kinds
from kafkagram.store.models import User, UserSummary
from kafkagram.store.notifications import KINDS
from kafkagram.store.pagination import Page
from models.common import USERNAME_MAX_LENGTH, Request, error, next_cursor_field

NOT_FOUND = error(404, "No such user")
CONFLICT = error(409, "Username or email already taken")


class UserSummaryOut(BaseModel):
    id: str
    username: str
    display_name: str
    avatar_media_id: str | None
    avatar_url: str | None = Field(description="the avatar's smallest variant; null without an avatar")

    @classmethod
    def of(cls, summary: UserSummary) -> UserSummaryOut:
        return cls.model_validate(cls.fields(summary))

    @staticmethod
    def fields(summary: UserSummary) -> dict[str, Any]:
        """The model's fields, for a larger model validated in one call (a page of posts)."""
        return {"id": str(summary.id), "username": summary.username, "display_name": summary.display_name,
                "avatar_media_id": id_or_none(summary.avatar_media_id), "avatar_url": _url_or_none(summary.avatar_key)}


class Profile(UserSummaryOut):
    bio: str
    followers_count: int
    following_count: int
    posts_count: int
    created_at: datetime

    @classmethod
    def fields_of(cls, user: User) -> dict[str, Any]:
        return {**UserSummaryOut.of(user.summary).model_dump(), "bio": user.bio,
                "followers_count": user.followers_count, "following_count": user.following_count,
                "posts_count": user.posts_count, "created_at": user.created_at}


class PublicProfile(Profile):
    is_following: bool = Field(description="whether the caller follows this user (false for oneself)")

    @classmethod
    def from_user(cls, user: User, is_following: bool) -> PublicProfile:
        return cls(**cls.fields_of(user), is_following=is_following)


class Me(Profile):
    email: str

    @classmethod
    def from_user(cls, user: User) -> Me:
        return cls(**cls.fields_of(user), email=user.email)


class UpdateProfileRequest(Request):
    """Only the fields present change; omitted or null fields stay as they are."""

    username: str | None = Field(default=None, pattern=USERNAME_PATTERN, max_length=USERNAME_MAX_LENGTH)
    display_name: str | None = Field(default=None, max_length=DISPLAY_NAME_MAX_LENGTH)
    bio: str | None = Field(default=None, max_length=BIO_MAX_LENGTH)


NotificationKind = Literal["like", "comment", "follow", "mention"]  # kafkagram.store.notifications.KINDS


class UserSettings(BaseModel):
    """The caller's private settings."""

    email_notifications: list[NotificationKind] = Field(
        description="notification kinds emailed to you (one email per unread notification group); "
                    "until you choose: comment, follow and mention")

    @classmethod
    def of(cls, settings: dict[str, Any]) -> UserSettings:
        return cls.model_validate({"email_notifications": email_kinds(settings)})


class UpdateSettingsRequest(Request):
    """Only the fields present change."""

    email_notifications: list[NotificationKind] | None = Field(
        default=None, max_length=len(KINDS),
        description="the kinds to email, replacing the current list; [] turns notification email off")


class UserPage(BaseModel):
    items: list[UserSummaryOut]
    next_cursor: str | None = next_cursor_field()

    @classmethod
    def of(cls, page: Page[UserSummary]) -> UserPage:
        return cls(items=[UserSummaryOut.of(s) for s in page.items], next_cursor=page.next_cursor)


def id_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


def _url_or_none(object_key: str | None) -> str | None:
    return None if object_key is None else public_media_url(object_key)
