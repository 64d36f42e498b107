"""Accounts: registration and login, with answers that do not reveal which accounts exist."""

from __future__ import annotations

from kafkagram.auth import hash_password, verify_dummy, verify_password
from kafkagram.db import Connection, Database
from kafkagram.store import NotFound, Unauthorized
from kafkagram.store import users as users_store
from kafkagram.store.models import User


def register(database: Database, username: str, email: str, password: str, display_name: str = "") -> User:
    """A new user (user-registered); PasswordPolicyError, Invalid or Conflict otherwise."""
    password_hash = hash_password(password)  # before the transaction: scrypt takes tens of ms and needs no lock
    with database.transaction() as conn:
        return users_store.create_user(conn, username, email, password_hash, display_name)


def login(database: Database, password: str, *, username: str | None = None, email: str | None = None) -> User:
    """The user whose username (or email) and password these are; Unauthorized otherwise, the same for an
    unknown user and a wrong password, and after the same time (one password check either way)."""

    def lookup(conn: Connection) -> User:
        if username is not None:
            return users_store.get_user_by_username(conn, username)
        return users_store.get_user_by_email(conn, email or "")

    try:
        user = database.read(lookup)
    except NotFound:
        verify_dummy(password)
        raise _invalid_credentials() from None
    if not verify_password(password, user.password_hash):
        raise _invalid_credentials()
    with database.transaction() as conn:
        users_store.touch_last_seen(conn, user.id)
    return user


def _invalid_credentials() -> Unauthorized:
    return Unauthorized("invalid-credentials", "wrong username, email or password")
