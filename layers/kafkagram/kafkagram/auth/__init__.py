"""Authentication and rate limiting for the API: passwords (scrypt), access tokens (JWT, HS256),
refresh sessions (Redis, rotated with reuse detection after a short grace window), token-bucket rate
limits and the per-account login lockout (Redis)."""

from kafkagram.auth.passwords import (
    PasswordPolicyError,
    check_policy,
    hash_password,
    needs_rehash,
    verify_dummy,
    verify_password,
)
from kafkagram.auth.ratelimit import DEFAULT_RULES, Decision, LoginThrottle, RateLimiter, Rule
from kafkagram.auth.sessions import RefreshGrant, RefreshSessions, SessionInfo
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
    "LoginThrottle",
    "PasswordPolicyError",
    "RateLimiter",
    "RefreshGrant",
    "RefreshSessions",
    "Rule",
    "SessionInfo",
    "TokenError",
    "check_policy",
    "ensure_secret_usable",
    "hash_password",
    "needs_rehash",
    "verify_dummy",
    "verify_password",
]
