"""Passwords (scrypt, policy, rehash) and access tokens (JWT): no services."""

from __future__ import annotations

import time

import jwt
import pytest

from kafkagram.auth import passwords
from kafkagram.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PasswordPolicyError,
    ScryptHash,
    hash_password,
    needs_rehash,
    parse,
    verify_dummy,
    verify_password,
)
from kafkagram.auth.tokens import (
    ACCESS_TOKEN_TTL_S,
    ALGORITHM,
    LOCAL_DEVELOPMENT_SECRET,
    AccessTokens,
    InsecureSecretError,
    TokenError,
    ensure_secret_usable,
)

SECRET = "test-secret-0123456789abcdef0123456789abcdef"
OTHER_SECRET = "another-secret-0123456789abcdef0123456789abcd"
PASSWORD = "correct horse battery"
ON_AWS = {"AWS_LAMBDA_FUNCTION_NAME": "api"}
ON_EMULATOR = {"AWS_LAMBDA_FUNCTION_NAME": "api", "AWS_SAM_LOCAL": "true"}


# Passwords

def test_hash_then_verify() -> None:
    encoded = hash_password(PASSWORD)
    assert encoded.startswith(f"scrypt${passwords.SCRYPT_N}${passwords.SCRYPT_R}${passwords.SCRYPT_P}$")
    assert verify_password(PASSWORD, encoded)


def test_wrong_password_refused() -> None:
    encoded = hash_password(PASSWORD)
    assert not verify_password(PASSWORD + "!", encoded)
    assert not verify_password("x" * (MAX_PASSWORD_LENGTH * 10), encoded)


def test_same_password_gets_a_new_salt() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert parse(first).salt != parse(second).salt


def test_unicode_normalised() -> None:
    # "é" typed as one code point or as "e" + combining accent is the same password
    assert verify_password("caf\u00e9-au-lait", hash_password("cafe\u0301-au-lait"))


def test_needs_rehash_when_parameters_change() -> None:
    current = hash_password(PASSWORD)
    assert not needs_rehash(current)
    weaker = parse(current)
    old = ScryptHash(2**10, weaker.r, weaker.p, weaker.salt, weaker.digest).encode()
    assert needs_rehash(old)


def test_old_parameters_still_verify() -> None:
    salt = b"0123456789abcdef"
    digest = passwords._scrypt(PASSWORD, salt, 2**10, 8, 1, 32)
    old = ScryptHash(2**10, 8, 1, salt, digest).encode()
    assert verify_password(PASSWORD, old)
    assert needs_rehash(old)


@pytest.mark.parametrize("password, code", [
    ("a" * (MIN_PASSWORD_LENGTH - 1), "password_too_short"),
    ("a" * (MAX_PASSWORD_LENGTH + 1), "password_too_long"),
])
def test_policy_refuses(password: str, code: str) -> None:
    with pytest.raises(PasswordPolicyError) as refused:
        hash_password(password)
    assert refused.value.code == code


def test_policy_bounds_are_inclusive() -> None:
    assert verify_password("a" * MIN_PASSWORD_LENGTH, hash_password("a" * MIN_PASSWORD_LENGTH))
    assert verify_password("a" * MAX_PASSWORD_LENGTH, hash_password("a" * MAX_PASSWORD_LENGTH))


@pytest.mark.parametrize("encoded", [
    "", "plain", "bcrypt$2b$12$abc", "scrypt$16384$8$1$c2FsdA", "scrypt$16383$8$1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0",
    "scrypt$4194304$8$1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0", "scrypt$x$8$1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0",
])
def test_malformed_hash_is_an_error_not_a_match(encoded: str) -> None:
    with pytest.raises(ValueError):
        verify_password(PASSWORD, encoded)


def test_dummy_verify_never_matches() -> None:
    assert verify_dummy(PASSWORD) is False


# Access tokens

def test_access_token_round_trip() -> None:
    tokens = AccessTokens(SECRET)
    before = int(time.time())
    claims = tokens.verify(tokens.issue(42))
    assert claims.user_id == "42"
    assert before <= claims.issued_at <= int(time.time())
    assert claims.expires_at == claims.issued_at + ACCESS_TOKEN_TTL_S
    raw = jwt.decode(tokens.issue(42), SECRET, algorithms=[ALGORITHM])
    assert set(raw) == {"sub", "iat", "exp", "jti", "typ"}
    assert raw["typ"] == "access"


def test_each_token_has_its_own_id() -> None:
    tokens = AccessTokens(SECRET)
    assert tokens.verify(tokens.issue(1)).token_id != tokens.verify(tokens.issue(1)).token_id


def test_expired_token_refused() -> None:
    issued_an_hour_ago = AccessTokens(SECRET, clock=lambda: time.time() - 3600)
    with pytest.raises(TokenError) as refused:
        AccessTokens(SECRET).verify(issued_an_hour_ago.issue(1))
    assert refused.value.code == "expired"


def test_tampered_token_refused() -> None:
    tokens = AccessTokens(SECRET)
    header, payload, signature = tokens.issue(1).split(".")
    forged_payload = jwt.utils.base64url_encode(  # same claims, another user, old signature
        jwt.utils.base64url_decode(payload).replace(b'"sub":"1"', b'"sub":"2"')).decode()
    with pytest.raises(TokenError) as refused:
        tokens.verify(f"{header}.{forged_payload}.{signature}")
    assert refused.value.code == "invalid"


def test_wrong_secret_refused() -> None:
    with pytest.raises(TokenError) as refused:
        AccessTokens(SECRET).verify(AccessTokens(OTHER_SECRET).issue(1))
    assert refused.value.code == "invalid"


def test_wrong_type_refused() -> None:
    now = int(time.time())
    refresh_like = jwt.encode({"sub": "1", "iat": now, "exp": now + 60, "jti": "x", "typ": "refresh"},
                              SECRET, algorithm=ALGORITHM)
    with pytest.raises(TokenError) as refused:
        AccessTokens(SECRET).verify(refresh_like)
    assert refused.value.code == "invalid"


def test_unsigned_token_refused() -> None:
    now = int(time.time())
    unsigned = jwt.encode({"sub": "1", "iat": now, "exp": now + 60, "jti": "x", "typ": "access"},
                          "", algorithm="none")
    with pytest.raises(TokenError):
        AccessTokens(SECRET).verify(unsigned)


@pytest.mark.parametrize("missing", ["sub", "exp", "jti", "typ"])
def test_token_missing_a_claim_refused(missing: str) -> None:
    now = int(time.time())
    claims = {"sub": "1", "iat": now, "exp": now + 60, "jti": "x", "typ": "access"}
    del claims[missing]
    with pytest.raises(TokenError) as refused:
        AccessTokens(SECRET).verify(jwt.encode(claims, SECRET, algorithm=ALGORITHM))
    assert refused.value.code == "invalid"


def test_garbage_token_refused() -> None:
    with pytest.raises(TokenError) as refused:
        AccessTokens(SECRET).verify("not-a-token")
    assert refused.value.code == "invalid"


def test_short_secret_refused() -> None:
    with pytest.raises(InsecureSecretError):
        AccessTokens("too-short")


def test_local_secret_refused_on_aws_only() -> None:
    ensure_secret_usable(LOCAL_DEVELOPMENT_SECRET, environ={})
    ensure_secret_usable(LOCAL_DEVELOPMENT_SECRET, environ=ON_EMULATOR)
    ensure_secret_usable(SECRET, environ=ON_AWS)
    with pytest.raises(InsecureSecretError):
        ensure_secret_usable(LOCAL_DEVELOPMENT_SECRET, environ=ON_AWS)
    with pytest.raises(InsecureSecretError):
        ensure_secret_usable("short", environ={})
