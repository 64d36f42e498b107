"""Register, login, refresh, logout, password change and the session list."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from kafkagram.auth.passwords import MAX_PASSWORD_LENGTH
from kafkagram.auth.sessions import MAX_TOKEN_LENGTH
from kafkagram.events.catalog import DISPLAY_NAME_MAX_LENGTH, USERNAME_PATTERN
from kafkagram.store.users import EMAIL_MAX_LENGTH
from models.common import USERNAME_MAX_LENGTH, Request, error
from models.users import Me

# Registration answers the same whether or not the email has an account (kafkagram.accounts).
REGISTER_ACCEPTED_MESSAGE = ("Registration received. If the email was not already in use, the account exists "
                             "now: log in with the username and password.")
USERNAME_TAKEN = error(409, "The username is taken (usernames are public; emails are never said to be taken)")
WRONG_PASSWORD = error(403, "The current password is wrong")
SESSION_NOT_FOUND = error(404, "No such session of the caller's")
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

# A bound on raw input before NFKC normalisation; the password policy checks the real length.
PASSWORD_INPUT_MAX_LENGTH = MAX_PASSWORD_LENGTH * 4


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
    # Refresh tokens longer than the store accepts are refused here already: junk stays out early.
    refresh_token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


class LogoutRequest(Request):
    refresh_token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


class Tokens(BaseModel):
    access_token: str = Field(description="send as `Authorization: Bearer <token>`")
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str = Field(description="single use: exchange it at /api/auth/refresh for a new pair")
    refresh_expires_in: int = Field(description="seconds the session lasts without a refresh")


class Session(Tokens):
    user: Me


class RegisterAccepted(BaseModel):
    message: str = Field(description="the same for every registration accepted: it never says whether the "
                                     "email already had an account")


class ChangePasswordRequest(Request):
    current_password: str = Field(min_length=1, max_length=PASSWORD_INPUT_MAX_LENGTH)
    new_password: str = Field(min_length=1, max_length=PASSWORD_INPUT_MAX_LENGTH,
                              description="at least 8 characters, at most 128")


class SessionOut(BaseModel):
    id: str = Field(description="the session's id, for DELETE /api/me/sessions/{session_id}")
    created_at: datetime = Field(description="when the session was started (login)")
    last_used_at: datetime = Field(description="its last login or refresh")
    user_agent: str = Field(description="the User-Agent of its last login or refresh (truncated)")
    ip: str = Field(description="coarse network of its last login or refresh: an IPv4 /24 or IPv6 /48")
    current: bool = Field(description="whether this is the session of the access token making the request")


class SessionList(BaseModel):
    items: list[SessionOut]
