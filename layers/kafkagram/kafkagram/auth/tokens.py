"""Short-lived signed access tokens: JWT (RFC 7519) with HS256 through PyJWT.

Stateless on purpose: every route verifies a token with the secret alone, no Redis or PostgreSQL
round trip. The price is that a token stays valid until it expires even after logout, which is why
it lives ACCESS_TOKEN_TTL_S (15 minutes) and the long-lived credential is the revocable refresh
token (`sessions.py`).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jwt

ALGORITHM = "HS256"
ACCESS_TOKEN_TTL_S = 15 * 60
ACCESS_TOKEN_TYPE = "access"
LEEWAY_S = 5  # clock skew tolerated between the function that issues and the one that verifies
MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key of at least the hash's size
# The default of the AUTH_TOKEN_SECRET setting: only for a developer's machine (`make up`).
LOCAL_DEVELOPMENT_SECRET = "local-development-only-secret-never-use-in-production"
REQUIRED_CLAIMS = ("sub", "iat", "exp", "jti", "typ")

TokenErrorCode = Literal["expired", "invalid", "reused"]


class TokenError(Exception):
    """A token that authenticates nobody; `code` goes in the 401 body."""

    def __init__(self, code: TokenErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: TokenErrorCode = code


class InsecureSecretError(RuntimeError):
    """The token secret must not be used here (refuse to start)."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    issued_at: int
    expires_at: int
    token_id: str
    session_id: str | None = None  # the refresh session it was issued for; None in tokens made before "sid"


def running_on_aws(environ: Mapping[str, str] = os.environ) -> bool:
    """True inside a real Lambda: the emulator and `sam local` both set AWS_SAM_LOCAL=true."""
    return bool(environ.get("AWS_LAMBDA_FUNCTION_NAME")) and environ.get("AWS_SAM_LOCAL") != "true"


def ensure_secret_usable(secret: str, environ: Mapping[str, str] = os.environ) -> None:
    """Raise InsecureSecretError for a short secret, or for the local default outside a local run."""
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise InsecureSecretError(f"AUTH_TOKEN_SECRET must have at least {MIN_SECRET_BYTES} bytes")
    if secret == LOCAL_DEVELOPMENT_SECRET and running_on_aws(environ):
        raise InsecureSecretError("AUTH_TOKEN_SECRET is the local-development default; set a real secret")


class AccessTokens:
    """Issues and verifies access tokens signed with one secret."""

    def __init__(self, secret: str, ttl_s: int = ACCESS_TOKEN_TTL_S,
                 clock: Callable[[], float] = time.time) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise InsecureSecretError(f"the token secret must have at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._ttl_s = ttl_s
        self._clock = clock  # for issuing only; PyJWT checks exp against the real clock

    def issue(self, user_id: int | str, session_id: str | None = None) -> str:
        """A token for the user; `session_id` (claim "sid") ties it to its refresh session, so the
        session list can mark the caller's own and a WebSocket can be closed with its session."""
        now = int(self._clock())
        claims: dict[str, Any] = {"sub": str(user_id), "iat": now, "exp": now + self._ttl_s,
                                  "jti": secrets.token_urlsafe(16), "typ": ACCESS_TOKEN_TYPE}
        if session_id is not None:
            claims["sid"] = session_id
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid access token; TokenError("expired" | "invalid") otherwise."""
        claims = self._decode(token)
        if claims.get("typ") != ACCESS_TOKEN_TYPE:
            raise TokenError("invalid", "not an access token")
        sid = claims.get("sid")
        return AccessClaims(user_id=claims["sub"], issued_at=int(claims["iat"]),
                            expires_at=int(claims["exp"]), token_id=str(claims["jti"]),
                            session_id=sid if isinstance(sid, str) and sid else None)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            # algorithms is explicit so a token cannot pick its own ("none", or RS256 with our secret).
            return jwt.decode(token, self._secret, algorithms=[ALGORITHM], leeway=LEEWAY_S,
                              options={"require": list(REQUIRED_CLAIMS)})
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("expired", "access token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError("invalid", "invalid access token") from exc
