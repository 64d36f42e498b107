"""Accounts: registration, login and password change, with answers that do not reveal which accounts
exist.

Registration answers the same whether or not the email already has an account (`register` returns None
for a taken email and the API answers exactly as for a new one): registration does not log in, since a
session handed to the new account would be the difference. A taken username does say so: usernames are
public (every profile shows one), so hiding them would protect nothing.

Login failures are counted per account (`LoginThrottle`): the user id when the name or email exists,
else the identifier typed, so an unknown account locks exactly like a real one.
"""

from __future__ import annotations

from kafkagram.auth import hash_password, verify_dummy, verify_password
from kafkagram.auth.ratelimit import LoginThrottle
from kafkagram.db import Connection, Database
from kafkagram.store import Conflict, Forbidden, NotFound, Unauthorized
from kafkagram.store import users as users_store
from kafkagram.store.models import User

EMAIL_TAKEN = "email-taken"


class LoginLocked(Exception):
    """Too many wrong passwords for this account: answer 429 with `retry_after_s`."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins for this account; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def register(database: Database, username: str, email: str, password: str, display_name: str = "") -> User | None:
    """A new user (user-registered), or None when the email already has an account (nothing is created
    and the caller must answer as for a new one); PasswordPolicyError, Invalid or Conflict
    ("username-taken") otherwise."""
    password_hash = hash_password(password)  # before the transaction: scrypt takes tens of ms and needs no lock
    try:
        with database.transaction() as conn:
            return users_store.create_user(conn, username, email, password_hash, display_name)
    except Conflict as conflict:
        if conflict.code == EMAIL_TAKEN:
            return None
        raise


def login(database: Database, password: str, *, username: str | None = None, email: str | None = None,
          throttle: LoginThrottle | None = None) -> User:
    """The user whose username (or email) and password these are; Unauthorized otherwise, the same for an
    unknown user and a wrong password, and after the same time (one password check either way).
    LoginLocked while the account is locked out (checked before the password: a locked account cannot
    be guessed at, even with the right password)."""

    def lookup(conn: Connection) -> User:
        if username is not None:
            return users_store.get_user_by_username(conn, username)
        return users_store.get_user_by_email(conn, email or "")

    try:
        user: User | None = database.read(lookup)
    except NotFound:
        user = None
    account = _account_key(user, username, email)
    _check_lock(throttle, account)
    if user is None:
        verify_dummy(password)
    if user is None or not verify_password(password, user.password_hash):
        if throttle is not None:
            throttle.failed(account)
        raise _invalid_credentials()
    if throttle is not None:
        throttle.succeeded(account)
    with database.transaction() as conn:
        users_store.touch_last_seen(conn, user.id)
    return user


def change_password(database: Database, user_id: int, current_password: str, new_password: str,
                    throttle: LoginThrottle | None = None) -> None:
    """Replace the password after checking the current one (Forbidden "wrong-password"; the failures
    count towards the login lockout, so a stolen access token cannot guess at it either);
    PasswordPolicyError for a new password the policy refuses. Ending the other sessions is the
    caller's part."""
    user = database.read(lambda conn: users_store.get_user_by_id(conn, user_id))
    account = _account_key(user, None, None)
    _check_lock(throttle, account)
    if not verify_password(current_password, user.password_hash):
        if throttle is not None:
            throttle.failed(account)
        raise Forbidden("wrong-password", "the current password is wrong")
    password_hash = hash_password(new_password)
    with database.transaction() as conn:
        # The store has no password writer yet; this is the one place that changes a hash.
        conn.run("UPDATE users SET password_hash = :hash WHERE id = :id", hash=password_hash, id=user_id)
    if throttle is not None:
        throttle.succeeded(account)


def _account_key(user: User | None, username: str | None, email: str | None) -> str:
    if user is not None:
        return f"user:{user.id}"
    if username is not None:
        return f"username:{username.lower()}"
    return f"email:{(email or '').strip().lower()}"


def _check_lock(throttle: LoginThrottle | None, account: str) -> None:
    if throttle is None:
        return
    wait = throttle.locked_for(account)
    if wait:
        raise LoginLocked(wait)


def _invalid_credentials() -> Unauthorized:
    return Unauthorized("invalid-credentials", "wrong username, email or password")
