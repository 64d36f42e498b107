"""S3-style errors: the exception the front raises and the XML body S3 answers with."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from xml.sax.saxutils import escape

XML_CONTENT_TYPE = "application/xml"


class S3Error(Exception):
    """An S3 error response: HTTP status, S3 error code, message and extra XML elements."""

    def __init__(
        self, status: int, code: str, message: str, details: Sequence[tuple[str, str | int]] = ()
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = tuple((name, str(value)) for name, value in details)


def new_request_id() -> str:
    """A request id shaped like S3's (16 upper-case hex characters)."""
    return secrets.token_hex(8).upper()


def new_host_id() -> str:
    return base64.b64encode(secrets.token_bytes(48)).decode("ascii")


def error_xml(error: S3Error, request_id: str) -> bytes:
    """`<Error>` document in S3's element order: Code, Message, details, RequestId, HostId."""
    parts = [f"<Code>{escape(error.code)}</Code>", f"<Message>{escape(error.message)}</Message>"]
    parts += [f"<{name}>{escape(value)}</{name}>" for name, value in error.details]
    parts += [f"<RequestId>{request_id}</RequestId>", f"<HostId>{new_host_id()}</HostId>"]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>").encode()


# Constructors for the errors the POST-object front produces.


def access_denied(message: str = "Access Denied") -> S3Error:
    return S3Error(403, "AccessDenied", message)


def policy_denied(reason: str) -> S3Error:
    return access_denied(f"Invalid according to Policy: {reason}")


def invalid_policy(reason: str) -> S3Error:
    return S3Error(400, "InvalidPolicyDocument", f"Invalid Policy: {reason}")


def invalid_argument(message: str, name: str, value: str = "") -> S3Error:
    return S3Error(
        400, "InvalidArgument", message, [("ArgumentName", name), ("ArgumentValue", value)]
    )


def missing_field(name: str) -> S3Error:
    # S3's wording for a missing `key` field; used for every required field.
    return invalid_argument(
        f"Bucket POST must contain a field named '{name}'.  "
        "If it is specified, please check the order of the fields.",
        name,
    )


def internal_error() -> S3Error:
    return S3Error(500, "InternalError", "We encountered an internal error. Please try again.")


def entity_too_large(proposed: int, maximum: int) -> S3Error:
    return S3Error(
        400,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        [("ProposedSize", proposed), ("MaxSizeAllowed", maximum)],
    )


def entity_too_small(proposed: int, minimum: int) -> S3Error:
    return S3Error(
        400,
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed size",
        [("ProposedSize", proposed), ("MinSizeAllowed", minimum)],
    )
