"""Users: registration, lookups, profile updates and the username prefix search."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import pg8000.native

from kafkagram.events import PROFILE_UPDATED, USER_REGISTERED, new_event
from kafkagram.events.catalog import BIO_MAX_LENGTH, DISPLAY_NAME_MAX_LENGTH, USERNAME_PATTERN
from kafkagram.outbox import enqueue, require_transaction
from kafkagram.store.errors import Conflict, Forbidden, Invalid, NotFound
from kafkagram.store.models import (
    KEEP,
    SUMMARY_COLUMNS,
    SUMMARY_WIDTH,
    USER_COLUMNS,
    Keep,
    User,
    UserSummary,
    summary_from_row,
    user_from_row,
)
from kafkagram.store.pagination import Page, build_page, page_size

EMAIL_MAX_LENGTH = 254  # RFC 5321's path limit
# Deliberately loose: the only real check of an address is a mail that arrives.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USERNAME = re.compile(USERNAME_PATTERN)
_LIKE_SPECIALS = re.compile(r"([\\%_])")  # '_' is legal in usernames but a LIKE wildcard


def validate_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise Invalid("invalid-username", "a username is 1 to 30 letters, digits, '.' or '_'")
    return username


def _validate_email(email: str) -> str:
    email = email.strip()
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.match(email):
        raise Invalid("invalid-email", "that is not an email address")
    return email


def _validate_text(value: str, max_length: int, field: str) -> str:
    if len(value) > max_length:
        raise Invalid(f"invalid-{field.replace('_', '-')}", f"{field} is at most {max_length} characters")
    return value


def create_user(conn: pg8000.native.Connection, username: str, email: str, password_hash: str,
                display_name: str = "") -> User:
    """Register a user (username and email unique, case-insensitively) and emit user-registered."""
    require_transaction(conn, "create_user")
    validate_username(username)
    email = _validate_email(email)
    _validate_text(display_name, DISPLAY_NAME_MAX_LENGTH, "display_name")
    # ON CONFLICT DO NOTHING rather than catching the unique violation: a failed statement would
    # abort the caller's transaction.
    rows = conn.run(f"INSERT INTO users AS u (username, email, password_hash, display_name) "
                    f"VALUES (:username, :email, :password_hash, :display_name) "
                    f"ON CONFLICT DO NOTHING RETURNING {USER_COLUMNS}",
                    username=username, email=email, password_hash=password_hash, display_name=display_name)
    if not rows:
        raise _registration_conflict(conn, username)
    user = user_from_row(rows[0])
    enqueue(conn, new_event(USER_REGISTERED, {"user_id": str(user.id), "username": user.username,
                                                "display_name": user.display_name}, user.id))
    return user


def _registration_conflict(conn: pg8000.native.Connection, username: str) -> Conflict:
    if conn.run("SELECT 1 FROM users WHERE lower(username) = lower(:username)", username=username):
        return Conflict("username-taken", f"the username {username!r} is taken")
    return Conflict("email-taken", "an account with this email already exists")


def _one_user(conn: pg8000.native.Connection, where: str, *, for_update: bool = False, **params: Any) -> User:
    lock = " FOR UPDATE" if for_update else ""
    rows = conn.run(f"SELECT {USER_COLUMNS} FROM users u WHERE {where}{lock}", **params)
    if not rows:
        raise NotFound("user-not-found", "no such user")
    return user_from_row(rows[0])


def get_user_by_id(conn: pg8000.native.Connection, user_id: int) -> User:
    return _one_user(conn, "u.id = :id", id=user_id)


def get_user_by_username(conn: pg8000.native.Connection, username: str) -> User:
    return _one_user(conn, "lower(u.username) = lower(:username)", username=username)


def get_user_by_email(conn: pg8000.native.Connection, email: str) -> User:
    return _one_user(conn, "lower(u.email) = lower(:email)", email=email.strip())


def resolve_usernames(conn: pg8000.native.Connection, usernames: Iterable[str]) -> list[int]:
    """Ids of the users named (case-insensitively) who exist, in the order named; one query."""
    names = list(dict.fromkeys(name.lower() for name in usernames))
    if not names:
        return []
    rows = conn.run("SELECT lower(username), id FROM users WHERE lower(username) = ANY(CAST(:names AS text[]))",
                    names=names)
    found = {row[0]: int(row[1]) for row in rows}
    return [found[name] for name in names if name in found]


def update_profile(conn: pg8000.native.Connection, user_id: int, *, username: str | Keep = KEEP,
                   display_name: str | Keep = KEEP, bio: str | Keep = KEEP,
                   avatar_media_id: int | Keep | None = KEEP) -> User:
    """Change public profile fields; emits profile-updated naming what changed (nothing when nothing did).

    The avatar must be a ready avatar media of the user; None removes it."""
    require_transaction(conn, "update_profile")
    current = _one_user(conn, "u.id = :id", for_update=True, id=user_id)  # the lock orders this user's events
    wanted = _wanted_changes(conn, current, username, display_name, bio, avatar_media_id)
    if not wanted:
        return current
    assignments = ", ".join(f"{column} = :{column}" for column in wanted)
    rows = conn.run(f"UPDATE users AS u SET {assignments} WHERE u.id = :id AND NOT EXISTS ("
                    f"SELECT 1 FROM users o WHERE lower(o.username) = lower(:new_username) AND o.id <> :id) "
                    f"RETURNING {USER_COLUMNS}",
                    id=user_id, new_username=wanted.get("username", current.username), **wanted)
    if not rows:
        raise Conflict("username-taken", f"the username {wanted['username']!r} is taken")
    user = user_from_row(rows[0])
    enqueue(conn, new_event(PROFILE_UPDATED, _profile_data(user, list(wanted)), user.id))
    return user


def _wanted_changes(conn: pg8000.native.Connection, current: User, username: str | Keep, display_name: str | Keep,
                    bio: str | Keep, avatar_media_id: int | Keep | None) -> dict[str, Any]:
    wanted: dict[str, Any] = {}
    if not isinstance(username, Keep) and username != current.username:
        wanted["username"] = validate_username(username)
    if not isinstance(display_name, Keep) and display_name != current.display_name:
        wanted["display_name"] = _validate_text(display_name, DISPLAY_NAME_MAX_LENGTH, "display_name")
    if not isinstance(bio, Keep) and bio != current.bio:
        wanted["bio"] = _validate_text(bio, BIO_MAX_LENGTH, "bio")
    if not isinstance(avatar_media_id, Keep) and avatar_media_id != current.avatar_media_id:
        if avatar_media_id is not None:
            _check_avatar(conn, current.id, avatar_media_id)
        wanted["avatar_media_id"] = avatar_media_id
    return wanted


def _check_avatar(conn: pg8000.native.Connection, user_id: int, media_id: int) -> None:
    rows = conn.run("SELECT owner_id, purpose, status FROM media WHERE id = :id", id=media_id)
    if not rows:
        raise NotFound("media-not-found", "no such media")
    owner_id, purpose, status = rows[0]
    if owner_id != user_id:
        raise Forbidden("not-your-media", "this media belongs to someone else")
    if purpose != "avatar" or status != "ready":
        raise Invalid("media-not-usable", "an avatar must be a processed avatar upload")


def _profile_data(user: User, changed: list[str]) -> dict[str, Any]:
    return {"user_id": str(user.id), "changed": changed, "username": user.username,
            "display_name": user.display_name, "bio": user.bio,
            "avatar_media_id": None if user.avatar_media_id is None else str(user.avatar_media_id)}


def set_avatar_if_newer(conn: pg8000.native.Connection, user_id: int, media_id: int) -> bool:
    """Make a processed avatar the user's, unless a newer one is set already; True when it changed.

    Locks the user, so two avatars processed at once apply one after the other; media ids are
    time-ordered, so an older upload that finishes late does not replace a newer avatar."""
    require_transaction(conn, "set_avatar_if_newer")
    rows = conn.run("SELECT avatar_media_id FROM users WHERE id = :id FOR UPDATE", id=user_id)
    if not rows or (rows[0][0] is not None and rows[0][0] >= media_id):
        return False
    update_profile(conn, user_id, avatar_media_id=media_id)
    return True


def update_settings(conn: pg8000.native.Connection, user_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge keys into the user's private settings (e.g. {"email_notifications": ["follow"]}); no event."""
    rows = conn.run("UPDATE users SET settings = settings || CAST(:changes AS jsonb) WHERE id = :id "
                    "RETURNING settings", id=user_id, changes=json.dumps(changes))
    if not rows:
        raise NotFound("user-not-found", "no such user")
    return dict(rows[0][0])


def touch_last_seen(conn: pg8000.native.Connection, user_id: int) -> None:
    conn.run("UPDATE users SET last_seen_at = now() WHERE id = :id", id=user_id)


def search_users_by_prefix(conn: pg8000.native.Connection, prefix: str, cursor: str | None = None,
                           limit: int | None = None) -> Page[UserSummary]:
    """Users whose username starts with `prefix` (case-insensitive), in username order.

    The cursor here is the last username of the page (lowercase), not an id: the order that the
    text_pattern_ops index gives for free is the username order."""
    limit = page_size(limit)
    prefix = prefix.strip().lstrip("@").lower()
    if not prefix:
        return Page([], None)
    after = (cursor or "").lower()
    rows = conn.run(f"SELECT {SUMMARY_COLUMNS}, lower(u.username) FROM users u "
                    f"WHERE lower(u.username) LIKE :pattern AND lower(u.username) ~>~ :after "
                    f"ORDER BY lower(u.username) USING ~<~ LIMIT :n",
                    pattern=_LIKE_SPECIALS.sub(r"\\\1", prefix) + "%", after=after, n=limit + 1)
    return build_page(rows, limit, summary_from_row, lambda row: row[SUMMARY_WIDTH])
