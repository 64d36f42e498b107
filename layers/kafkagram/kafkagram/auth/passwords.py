"""Password hashing with scrypt (stdlib, memory-hard) in a self-describing format.

A stored hash reads `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`, so the cost can be raised later:
`needs_rehash` tells the login path to re-hash with the current parameters after a successful
verify. Passwords are NFKC-normalised first (NIST SP 800-63B 5.1.1.2), so the same visible password
typed on different keyboards hashes the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

SCHEME = "scrypt"
# n=2**14, r=8, p=1: 16 MiB per hash, the parameters OWASP lists for scrypt (as of 2024).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
HASH_BYTES = 32
SALT_BYTES = 16
# Stored hashes are parsed before use: refuse parameters that would let a corrupt row take the CPU
# or memory of the whole function.
MAX_SCRYPT_N = 2**20
MAX_SCRYPT_R = 32
MAX_SCRYPT_P = 16
MEMORY_SLACK_BYTES = 1 << 20

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128  # bounds the work one request can cause (NIST asks to allow at least 64)


class PasswordPolicyError(ValueError):
    """A new password the policy refuses; `code` is for the API's error body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ScryptHash:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def encode(self) -> str:
        return "$".join((SCHEME, str(self.n), str(self.r), str(self.p), _b64(self.salt), _b64(self.digest)))


def check_policy(password: str) -> None:
    """Raise PasswordPolicyError when a new password is too short or too long."""
    length = len(_normalize(password))
    if length < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError("password_too_short", f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if length > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError("password_too_long", f"password must have at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    """The encoded hash of a new password (checked against the policy first)."""
    check_policy(password)
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES)
    return ScryptHash(SCRYPT_N, SCRYPT_R, SCRYPT_P, salt, digest).encode()


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches the stored hash; ValueError if `encoded` is not one of ours."""
    stored = parse(encoded)
    if len(password) > MAX_PASSWORD_LENGTH * 4:  # never valid (policy); don't spend CPU on it
        return False
    digest = _scrypt(password, stored.salt, stored.n, stored.r, stored.p, len(stored.digest))
    return hmac.compare_digest(digest, stored.digest)


def verify_dummy(password: str) -> bool:
    """Spend the time of one verify for an unknown user, so response time doesn't reveal accounts."""
    verify_password(password, _dummy_hash())
    return False


def needs_rehash(encoded: str) -> bool:
    """Whether a hash was made with other parameters than the current ones."""
    stored = parse(encoded)
    return (stored.n, stored.r, stored.p, len(stored.digest), len(stored.salt)) != (
        SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES, SALT_BYTES)


def parse(encoded: str) -> ScryptHash:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise ValueError("not an scrypt password hash")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except ValueError as exc:
        raise ValueError("malformed scrypt password hash") from exc
    if not (1 < n <= MAX_SCRYPT_N and n & (n - 1) == 0 and 0 < r <= MAX_SCRYPT_R and 0 < p <= MAX_SCRYPT_P):
        raise ValueError("scrypt parameters out of range")
    if not salt or len(digest) < 16:
        raise ValueError("malformed scrypt password hash")
    return ScryptHash(n, r, p, salt, digest)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL refuses more than 32 MiB unless told: allow what these parameters need (128*r*(n+p)).
    maxmem = 128 * r * (n + p + 2) + MEMORY_SLACK_BYTES
    return hashlib.scrypt(_normalize(password).encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem)


def _normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(MIN_PASSWORD_LENGTH))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
