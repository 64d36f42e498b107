"""Passwords, access tokens and refresh sessions (sessions against the real Redis, db 15)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
import redis

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
from kafkagram.auth.sessions import SESSION_TTL_S, RefreshSessions, token_hash
from kafkagram.auth.tokens import (
    ACCESS_TOKEN_TTL_S,
    ALGORITHM,
    LOCAL_DEVELOPMENT_SECRET,
    AccessTokens,
    InsecureSecretError,
    TokenError,
    ensure_secret_usable,
)
from tests.waiting import wait_for

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


# Refresh sessions

@pytest.fixture
def sessions(redis_client: redis.Redis, unique: str) -> Iterator[RefreshSessions]:
    prefix = f"test:{unique}:"
    yield RefreshSessions(redis_client, prefix=prefix)
    keys = list(redis_client.scan_iter(match=f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


def _code(sessions: RefreshSessions, token: str) -> str:
    with pytest.raises(TokenError) as refused:
        sessions.rotate(token)
    return refused.value.code


def test_refresh_token_stored_hashed_with_ttl(sessions: RefreshSessions, redis_client: redis.Redis,
                                               unique: str) -> None:
    grant = sessions.create(7)
    keys = {key.decode() for key in redis_client.scan_iter(match=f"test:{unique}:*")}
    assert f"test:{unique}:auth:refresh:{token_hash(grant.token)}" in keys
    assert not any(grant.token in key for key in keys)
    ttl = redis_client.ttl(f"test:{unique}:auth:refresh:{token_hash(grant.token)}")
    assert SESSION_TTL_S - 5 <= ttl <= SESSION_TTL_S
    assert grant.user_id == "7"
    assert grant.expires_in_s == SESSION_TTL_S


def test_refresh_rotates(sessions: RefreshSessions) -> None:
    first = sessions.create(7)
    second = sessions.rotate(first.token)
    assert second.token != first.token
    assert (second.user_id, second.session_id) == ("7", first.session_id)
    third = sessions.rotate(second.token)
    assert third.session_id == first.session_id


def test_reuse_of_rotated_token_revokes_the_family(sessions: RefreshSessions) -> None:
    stolen = sessions.create(7)
    legitimate = sessions.rotate(stolen.token)
    assert _code(sessions, stolen.token) == "reused"
    assert _code(sessions, legitimate.token) == "invalid"  # the thief's replay ended the session
    assert _code(sessions, stolen.token) == "invalid"


def test_reuse_leaves_other_sessions_alone(sessions: RefreshSessions) -> None:
    phone, laptop = sessions.create(7), sessions.create(7)
    sessions.rotate(phone.token)
    assert _code(sessions, phone.token) == "reused"
    assert sessions.rotate(laptop.token).user_id == "7"


def test_unknown_token_invalid(sessions: RefreshSessions) -> None:
    assert _code(sessions, "never-issued") == "invalid"
    assert _code(sessions, "x" * 10_000) == "invalid"


def test_logout_revokes(sessions: RefreshSessions) -> None:
    grant = sessions.create(7)
    assert sessions.revoke(grant.token)
    assert _code(sessions, grant.token) == "invalid"
    assert not sessions.revoke(grant.token)  # idempotent


def test_logout_with_an_old_token_ends_the_session(sessions: RefreshSessions) -> None:
    first = sessions.create(7)
    current = sessions.rotate(first.token)
    assert sessions.revoke(first.token)
    assert _code(sessions, current.token) == "invalid"


def test_revoke_all_ends_every_session_of_the_user(sessions: RefreshSessions) -> None:
    mine = [sessions.create(7), sessions.create(7)]
    other = sessions.create(8)
    assert sessions.revoke_all(7) == 2
    assert all(_code(sessions, grant.token) == "invalid" for grant in mine)
    assert sessions.rotate(other.token).user_id == "8"


def test_session_expires_with_its_ttl(redis_client: redis.Redis, unique: str) -> None:
    short = RefreshSessions(redis_client, prefix=f"test:{unique}:", ttl_s=1)
    grant = short.create(7)
    key = f"test:{unique}:auth:refresh:{token_hash(grant.token)}"
    assert 0 < redis_client.pttl(key) <= 1000
    redis_client.pexpire(key, 1)  # expire now rather than wait a second
    redis_client.pexpire(f"test:{unique}:auth:session:{grant.session_id}", 1)
    wait_for(lambda: not redis_client.exists(key), timeout=5, message="token key expiry")
    assert _code(short, grant.token) == "invalid"


def test_rotate_and_revoke_are_one_round_trip_each(redis_client: redis.Redis, unique: str) -> None:
    calls: list[str] = []

    class Counting(redis.Redis):
        def execute_command(self, *args, **options):
            calls.append(str(args[0]))
            return super().execute_command(*args, **options)

    sessions = RefreshSessions(Counting(connection_pool=redis_client.connection_pool), prefix=f"test:{unique}:")
    warm = sessions.rotate(sessions.create(7).token)  # loads the scripts if Redis lacks them
    sessions.revoke(warm.token)
    grant = sessions.create(7)
    calls.clear()
    grant = sessions.rotate(grant.token)
    sessions.revoke(grant.token)
    assert calls == ["EVALSHA", "EVALSHA"]
