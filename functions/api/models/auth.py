"""Register, login, refresh and logout."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from kafkagram.auth.passwords import MAX_PASSWORD_LENGTH
from kafkagram.auth.sessions import MAX_TOKEN_LENGTH
from kafkagram.events.catalog import DISPLAY_NAME_MAX_LENGTH, USERNAME_PATTERN
from kafkagram.store.users import EMAIL_MAX_LENGTH
from models.common import USERNAME_MAX_LENGTH, Request
from models.users import Me

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
