"""Email verification (migration 0008): a link with a random token is mailed to the address at
registration (`kafkagram.flows.notify_email`); presenting the token (POST /api/auth/verify-email) marks
the address verified. Until then no notification is emailed to it.

Only the token's SHA-256 is stored. A token confirms the address it was sent to: if the account's
email is no longer that address, the token confirms nothing. Following one link twice is fine (it
answers as verified again); a token expires after VERIFICATION_TTL.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pg8000.native

from kafkagram.outbox import require_transaction
from kafkagram.store.errors import Invalid, NotFound

VERIFICATION_TTL = timedelta(hours=48)
TOKEN_BYTES = 32  # 256 bits from the OS's CSPRNG
TOKEN_MAX_LENGTH = 128  # what a token may be on the wire (token_urlsafe(32) is 43 characters)
INVALID_TOKEN = "invalid-verification-token"


@dataclass(frozen=True)
class IssuedLink:
    token: str
    email: str


@dataclass(frozen=True)
class Verified:
    user_id: int
    email: str


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def email_verified(conn: pg8000.native.Connection, user_id: int) -> bool:
    """Whether the user's current email address was confirmed (False for an unknown user)."""
    rows = conn.run("SELECT email_verified_at IS NOT NULL FROM users WHERE id = :id", id=user_id)
    return bool(rows and rows[0][0])


def issue_verification(conn: pg8000.native.Connection, user_id: int) -> IssuedLink | None:
    """A new token for the user's current address; None when that address is already verified.
    NotFound for an unknown user."""
    require_transaction(conn, "issue_verification")
    rows = conn.run("SELECT email, email_verified_at IS NOT NULL FROM users WHERE id = :id", id=user_id)
    if not rows:
        raise NotFound("user-not-found", "no such user")
    email, verified = rows[0]
    if verified:
        return None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    conn.run("INSERT INTO email_verifications (token_hash, user_id, email, expires_at) "
             "VALUES (:hash, :user, :email, now() + CAST(:ttl AS interval))",
             hash=_hash(token), user=user_id, email=email, ttl=f"{int(VERIFICATION_TTL.total_seconds())} seconds")
    return IssuedLink(token=token, email=email)


# The token's row, unexpired, for the address the account still has; marks it used and the address
# verified (keeping the first verification time).
_VERIFY = """
WITH link AS (
    UPDATE email_verifications v SET used_at = coalesce(v.used_at, now())
    FROM users u
    WHERE v.token_hash = :hash AND v.expires_at > now() AND u.id = v.user_id AND lower(u.email) = lower(v.email)
    RETURNING v.user_id, u.email
)
UPDATE users u SET email_verified_at = coalesce(u.email_verified_at, now())
FROM link WHERE u.id = link.user_id
RETURNING u.id, link.email
"""


def verify_email(conn: pg8000.native.Connection, token: str) -> Verified:
    """Confirm the address the token was sent to; Invalid(INVALID_TOKEN) for an unknown, expired or
    outdated token (one answer for all: it tells a guesser nothing)."""
    require_transaction(conn, "verify_email")
    rows = conn.run(_VERIFY, hash=_hash(token)) if 0 < len(token) <= TOKEN_MAX_LENGTH else []
    if not rows:
        raise Invalid(INVALID_TOKEN, "this verification link is not valid (it may have expired)")
    user_id, email = rows[0]
    return Verified(user_id=int(user_id), email=str(email))
