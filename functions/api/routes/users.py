"""The caller's account, profiles, the username search and the follower/following lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import deps
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from models.common import AUTHENTICATED, USERNAME_MAX_LENGTH, Cursor, Limit, Text, Username, responses, success
from models.users import (
    CONFLICT,
    NOT_FOUND,
    Me,
    PublicProfile,
    UpdateProfileRequest,
    UpdateSettingsRequest,
    UserPage,
    UserSettings,
)

from kafkagram.db import Connection
from kafkagram.mail import EMAIL_SETTINGS_KEY
from kafkagram.store import follows as follows_store
from kafkagram.store import users as users_store
from kafkagram.store.models import KEEP, Keep, UserSummary
from kafkagram.store.notifications import KINDS
from kafkagram.store.pagination import Page
from routes import BEARER, Caller

router = APIGatewayHttpRouter()
TAGS = ["users"]
# follows_store.followers_page or following_page: (conn, user id, cursor, limit) -> a page of users
ConnectionsPage = Callable[[Connection, int, str | None, int | None], Page[UserSummary]]


@router.get("/api/me", tags=TAGS, summary="The caller's account", security=BEARER,
            responses=responses(success(200, "OK"), AUTHENTICATED))
def get_me(caller: Caller) -> Me:
    return Me.from_user(deps.read(lambda conn: users_store.get_user_by_id(conn, caller)))


@router.patch("/api/me", tags=TAGS, summary="Change the caller's username, display name or bio",
              security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, CONFLICT))
def update_me(body: UpdateProfileRequest, caller: Caller) -> Me:
    # Only ever the caller's own row: there is no route that names another user to change.
    def keep_if_none(value: str | None) -> str | Keep:
        return KEEP if value is None else value

    user = deps.write(lambda conn: users_store.update_profile(
        conn, caller, username=keep_if_none(body.username), display_name=keep_if_none(body.display_name),
        bio=keep_if_none(body.bio)))
    return Me.from_user(user)


@router.get("/api/me/settings", tags=TAGS, summary="The caller's private settings (notification email)",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def get_my_settings(caller: Caller) -> UserSettings:
    return UserSettings.of(deps.read(lambda conn: users_store.get_user_by_id(conn, caller)).settings)


@router.patch("/api/me/settings", tags=TAGS, summary="Change the caller's private settings",
              security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED))
def update_my_settings(body: UpdateSettingsRequest, caller: Caller) -> UserSettings:
    if body.email_notifications is None:  # nothing to change
        return get_my_settings(caller)
    kinds = sorted(set(body.email_notifications), key=KINDS.index)
    return UserSettings.of(deps.write(lambda conn: users_store.update_settings(
        conn, caller, {EMAIL_SETTINGS_KEY: kinds})))


@router.get("/api/users", tags=TAGS, summary="Search users by username prefix", security=BEARER,
            responses=responses(success(200, "OK"), AUTHENTICATED))
def search_users(caller: Caller,
                 prefix: Annotated[Text, Query(min_length=1, max_length=USERNAME_MAX_LENGTH + 1,
                                              description="start of the username (a leading @ is ignored)")],
                 cursor: Cursor = None, limit: Limit = None) -> UserPage:
    return UserPage.of(deps.read(lambda conn: users_store.search_users_by_prefix(conn, prefix, cursor, limit)))


@router.get("/api/users/<username>", tags=TAGS, summary="A user's profile", security=BEARER,
            responses=responses(success(200, "OK"), AUTHENTICATED, NOT_FOUND))
def get_profile(username: Username, caller: Caller) -> PublicProfile:
    def load(conn: Connection) -> PublicProfile:
        user = users_store.get_user_by_username(conn, username)
        following = user.id != caller and follows_store.is_following(conn, caller, user.id)
        return PublicProfile.from_user(user, following)

    return deps.read(load)


@router.get("/api/users/<username>/followers", tags=TAGS, summary="Who follows the user, newest first",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, NOT_FOUND))
def list_followers(username: Username, caller: Caller, cursor: Cursor = None, limit: Limit = None) -> UserPage:
    return _connections(username, follows_store.followers_page, cursor, limit)


@router.get("/api/users/<username>/following", tags=TAGS, summary="Whom the user follows, newest first",
            security=BEARER, responses=responses(success(200, "OK"), AUTHENTICATED, NOT_FOUND))
def list_following(username: Username, caller: Caller, cursor: Cursor = None, limit: Limit = None) -> UserPage:
    return _connections(username, follows_store.following_page, cursor, limit)


def _connections(username: str, page_of: ConnectionsPage, cursor: str | None, limit: int | None) -> UserPage:
    """A page of the user's followers or followees (404 for an unknown user)."""
    def load(conn: Connection) -> UserPage:
        return UserPage.of(page_of(conn, users_store.get_user_by_username(conn, username).id, cursor, limit))

    return deps.read(load)
