"""Email verification: the token from the link mailed at registration."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kafkagram.store.email_verification import TOKEN_MAX_LENGTH
from models.common import Request, error

INVALID_VERIFICATION = error(400, "Invalid input, or a token that is unknown, expired or for an address the account "
                                  "no longer has (`invalid-verification-token`)")


class VerifyEmailRequest(Request):
    token: str = Field(min_length=1, max_length=TOKEN_MAX_LENGTH,
                       description="the token from the link (after `#token=` in /verify-email)")


class EmailVerified(BaseModel):
    email: str = Field(description="the address now verified: notifications may be emailed to it")
