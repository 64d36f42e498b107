"""Authentication and rate limiting for the API: passwords (scrypt), access tokens (JWT, HS256),
refresh sessions (Redis, rotated with reuse detection) and token-bucket rate limits (Redis)."""

from kafkagram.auth.passwords import (
    PasswordPolicyError,
    check_policy,
    hash_password,
    needs_rehash,
    verify_dummy,
    verify_password,
)
from kafkagram.auth.ratelimit import DEFAULT_RULES, Decision, RateLimiter, Rule
from kafkagram.auth.sessions import RefreshGrant, RefreshSessions
from kafkagram.auth.tokens import (
    LOCAL_DEVELOPMENT_SECRET,
    AccessClaims,
    AccessTokens,
    InsecureSecretError,
    TokenError,
    ensure_secret_usable,
)

__all__ = [
    "DEFAULT_RULES",
    "LOCAL_DEVELOPMENT_SECRET",
    "AccessClaims",
    "AccessTokens",
    "Decision",
    "InsecureSecretError",
    "PasswordPolicyError",
    "RateLimiter",
    "RefreshGrant",
    "RefreshSessions",
    "Rule",
    "TokenError",
    "check_policy",
    "ensure_secret_usable",
    "hash_password",
    "needs_rehash",
    "verify_dummy",
    "verify_password",
]
