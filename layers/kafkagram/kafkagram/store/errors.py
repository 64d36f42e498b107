"""Domain errors: what went wrong, as a stable `code` and a `message` for people.

The HTTP layer maps them to responses with `http_status` (`{"error": code, "message": message}`).
Repositories raise them before any failing SQL, so the caller's transaction is still usable.
"""

from __future__ import annotations


class DomainError(Exception):
    http_status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class Invalid(DomainError):
    """The input breaks a rule (length, format, following oneself...)."""

    http_status = 400


class Unauthorized(DomainError):
    """The caller could not be identified (wrong credentials)."""

    http_status = 401


class Forbidden(DomainError):
    """The caller may not do this to something that is not theirs."""

    http_status = 403


class NotFound(DomainError):
    http_status = 404


class Conflict(DomainError):
    """The request clashes with the current state (username taken, media already used...)."""

    http_status = 409
