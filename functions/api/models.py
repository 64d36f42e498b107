"""Request and response bodies (pydantic), which are also the OpenAPI document's schemas.

Requests forbid unknown fields, so a typo ("displayname") is a 400 naming it rather than a silent
no-op; lengths and patterns repeat the store's rules so the client gets them in the schema too (the
store still checks: it is the authority). Ids are strings on the wire: they are 64-bit, beyond the
integers JavaScript represents exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kafkagram.auth.passwords import MAX_PASSWORD_LENGTH
from kafkagram.auth.sessions import MAX_TOKEN_LENGTH
from kafkagram.config import public_media_url
from kafkagram.events.catalog import BIO_MAX_LENGTH, DISPLAY_NAME_MAX_LENGTH, USERNAME_PATTERN
from kafkagram.mail import email_kinds
from kafkagram.store.models import User, UserSummary
from kafkagram.store.notifications import KINDS
from kafkagram.store.pagination import Page
from kafkagram.store.users import EMAIL_MAX_LENGTH

USERNAME_MAX_LENGTH = 30
# A bound on raw input before NFKC normalisation; the password policy checks the real length.
PASSWORD_INPUT_MAX_LENGTH = MAX_PASSWORD_LENGTH * 4
# Refresh tokens longer than this are refused by the store anyway; bounding here keeps junk out early.
REFRESH_TOKEN_INPUT_MAX_LENGTH = MAX_TOKEN_LENGTH
CURSOR_MAX_LENGTH = 64


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------------------
# Errors


class ErrorBody(BaseModel):
    error: str = Field(description="stable machine-readable code, e.g. `username-taken`")
    message: str = Field(description="human-readable explanation")


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


def responses(*groups: dict[int, Any]) -> dict[int, OpenAPIResponse]:
    """A route's documented responses, from the groups below."""
    merged: dict[int, Any] = {}
    for group in groups:
        merged.update(group)
    return merged


def success(status: int, description: str) -> dict[int, Any]:
    """A success response; Powertools fills in the schema from the route's return annotation."""
    return {status: {"description": description}}


def no_content(description: str) -> dict[int, Any]:
    return {204: {"description": description, "content": {}}}


BAD_REQUEST = {400: _error("Invalid input (the message names the field)")}
UNAUTHORIZED = {401: _error("Missing, invalid or expired credentials")}
RATE_LIMITED = {429: _error("Rate limit reached; see the Retry-After header")}
NOT_FOUND = {404: _error("No such user")}
CONFLICT = {409: _error("Username or email already taken")}
AUTHENTICATED = {**BAD_REQUEST, **UNAUTHORIZED, **RATE_LIMITED}


# ---------------------------------------------------------------------------------------------------
# Auth


class RegisterRequest(Request):
    username: str = Field(pattern=USERNAME_PATTERN, max_length=USERNAME_MAX_LENGTH,
                          description="1 to 30 letters, digits, '.' or '_'; unique, case-insensitively")
    email: str = Field(min_length=3, max_length=EMAIL_MAX_LENGTH)
    password: str = Field(min_length=1, max_length=PASSWORD_INPUT_MAX_LENGTH,
                          description="at least 8 characters, at most 128")
    display_name: str = Field(default="", max_length=DISPLAY_NAME_MAX_LENGTH)


class LoginRequest(Request):
    username: str | None = Field(default=None, min_length=1, max_length=USERNAME_MAX_LENGTH)
    email: str | None = Field(default=None, min_length=1, max_length=EMAIL_MAX_LENGTH)
    password: str = Field(min_length=1, max_length=PASSWORD_INPUT_MAX_LENGTH)

    @model_validator(mode="after")
    def one_identifier(self) -> LoginRequest:
        if (self.username is None) == (self.email is None):
            raise ValueError("give either username or email")
        return self


class RefreshRequest(Request):
    refresh_token: str = Field(min_length=1, max_length=REFRESH_TOKEN_INPUT_MAX_LENGTH)


class LogoutRequest(Request):
    refresh_token: str = Field(min_length=1, max_length=REFRESH_TOKEN_INPUT_MAX_LENGTH)


class Tokens(BaseModel):
    access_token: str = Field(description="send as `Authorization: Bearer <token>`")
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str = Field(description="single use: exchange it at /api/auth/refresh for a new pair")
    refresh_expires_in: int = Field(description="seconds the session lasts without a refresh")


# ---------------------------------------------------------------------------------------------------
# Users


class UserSummaryOut(BaseModel):
    id: str
    username: str
    display_name: str
    avatar_media_id: str | None
    avatar_url: str | None = Field(description="the avatar's smallest variant; null without an avatar")

    @classmethod
    def of(cls, summary: UserSummary) -> UserSummaryOut:
        return cls(id=str(summary.id), username=summary.username, display_name=summary.display_name,
                   avatar_media_id=_id_or_none(summary.avatar_media_id), avatar_url=_url_or_none(summary.avatar_key))


class Profile(UserSummaryOut):
    bio: str
    followers_count: int
    following_count: int
    posts_count: int
    created_at: datetime

    @classmethod
    def fields_of(cls, user: User) -> dict[str, Any]:
        return {"id": str(user.id), "username": user.username, "display_name": user.display_name,
                "avatar_media_id": _id_or_none(user.avatar_media_id), "avatar_url": _url_or_none(user.avatar_key),
                "bio": user.bio,
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


class Session(Tokens):
    user: Me


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
        return cls(email_notifications=list(email_kinds(settings)))


class UpdateSettingsRequest(Request):
    """Only the fields present change."""

    email_notifications: list[NotificationKind] | None = Field(
        default=None, max_length=len(KINDS),
        description="the kinds to email, replacing the current list; [] turns notification email off")


class UserPage(BaseModel):
    items: list[UserSummaryOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")

    @classmethod
    def of(cls, page: Page[UserSummary]) -> UserPage:
        return cls(items=[UserSummaryOut.of(s) for s in page.items], next_cursor=page.next_cursor)


def _url_or_none(object_key: str | None) -> str | None:
    return None if object_key is None else public_media_url(object_key)


def _id_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)

