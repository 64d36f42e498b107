"""Browser-form POST policy checks (Signature Version 4, and 2), the way S3 evaluates them.

Pure functions over the form's text fields; the HTTP front decides when to call them.
Sources: AWS S3 API reference "POST Policy" (sigv4-HTTPPOSTConstructPolicy) and
"HTML Forms" (HTTPPOSTForms); botocore `S3SigV4PostAuth` for the signing side.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulator.s3.errors import (
    S3Error,
    access_denied,
    entity_too_large,
    entity_too_small,
    invalid_argument,
    invalid_policy,
    missing_field,
    policy_denied,
)

SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
# Form fields the policy need not mention (S3 docs: "except x-amz-signature, file, policy,
# and field names that have an x-ignore- prefix"; SigV2 forms: "except AWSAccessKeyId,
# signature, file, policy"). Content-Type is NOT exempt.
EXEMPT_FIELDS = frozenset({"x-amz-signature", "file", "policy"})
EXEMPT_FIELDS_V2 = frozenset({"awsaccesskeyid", "signature", "file", "policy"})
IGNORED_PREFIX = "x-ignore-"
FILENAME_VARIABLE = "${filename}"

FormFields = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class FieldCondition:
    """`eq` / `starts-with` on one form field (lower-cased name without `$`)."""

    op: str
    field: str
    value: str
    text: str  # the condition as S3 quotes it in "Policy Condition failed: ..."


@dataclass(frozen=True)
class PostPolicy:
    expiration: datetime
    conditions: tuple[FieldCondition, ...]
    min_size: int = 0
    max_size: int | None = None


# --- form helpers -------------------------------------------------------------------------


def field_values(fields: FormFields) -> dict[str, str]:
    """Lower-cased name -> value; repeated fields are joined with commas, as S3 documents."""
    values: dict[str, list[str]] = {}
    for name, value in fields:
        values.setdefault(name.lower(), []).append(value)
    return {name: ",".join(parts) for name, parts in values.items()}


def expand_filename(fields: FormFields, filename: str | None) -> list[tuple[str, str]]:
    """Replace `${filename}` in every field: S3 expands variables before checking the policy."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return [(name, value.replace(FILENAME_VARIABLE, base)) for name, value in fields]


# --- policy document ----------------------------------------------------------------------


def decode_policy(encoded: str) -> PostPolicy:
    document = _load_document(encoded)
    if "expiration" not in document:
        raise invalid_policy("Policy missing expiration.")
    if "conditions" not in document:
        raise invalid_policy("Policy missing conditions.")
    raw_conditions = document["conditions"]
    if not isinstance(raw_conditions, list):
        raise invalid_policy("Invalid JSON.")
    conditions: list[FieldCondition] = []
    min_size, max_size = 0, None
    for raw in raw_conditions:
        if isinstance(raw, list) and raw and str(raw[0]).lower() == "content-length-range":
            low, high = _parse_range(raw)
            # Several ranges must all hold: keep the narrowest.
            min_size, max_size = max(min_size, low), high if max_size is None else min(max_size, high)
        else:
            conditions.append(_parse_condition(raw))
    return PostPolicy(_parse_expiration(document["expiration"]), tuple(conditions), min_size, max_size)


def _load_document(encoded: str) -> dict[str, Any]:
    try:
        document = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise invalid_policy("Invalid JSON.") from None
    if not isinstance(document, dict):
        raise invalid_policy("Invalid JSON.")
    return document


def _parse_expiration(value: object) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise invalid_policy(f"Invalid 'expiration' value: '{value}'")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_range(raw: list[Any]) -> tuple[int, int]:
    # Real S3 answers "Invalid JSON." to non-integer bounds such as 512.0.
    if len(raw) != 3 or not all(_is_int(bound) for bound in raw[1:]):
        raise invalid_policy("Invalid JSON.")
    return int(raw[1]), int(raw[2])


def _is_int(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.isdigit()
    )


def _parse_condition(raw: object) -> FieldCondition:
    if isinstance(raw, dict):
        return _parse_simple_condition(raw)
    if not isinstance(raw, list):
        raise invalid_policy("Invalid JSON.")
    text = json.dumps(raw, ensure_ascii=False)
    if len(raw) != 3 or not all(isinstance(item, str) for item in raw):
        raise invalid_policy(f"Invalid Condition: {text}")
    op, name, value = raw[0].lower(), raw[1], raw[2]
    if op not in ("eq", "starts-with") or not name.startswith("$"):
        raise invalid_policy(f"Invalid Condition: {text}")
    return FieldCondition(op, name[1:].lower(), value, text)


def _parse_simple_condition(raw: dict[str, Any]) -> FieldCondition:
    if len(raw) != 1:
        raise invalid_policy(
            "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
        )
    ((name, value),) = raw.items()
    if not isinstance(value, str):
        raise invalid_policy(f"Invalid Simple-Condition: value of '{name}' must be a string.")
    text = json.dumps(["eq", f"${name}", value], ensure_ascii=False)
    return FieldCondition("eq", name.lower(), value, text)


# --- signature ----------------------------------------------------------------------------


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def sign_policy(encoded_policy: str, secret: str, date: str, region: str, service: str) -> str:
    """Hex HMAC-SHA256 of the base64 policy: the SigV4 POST string to sign is the policy."""
    key = signing_key(secret, date, region, service)
    return hmac.new(key, encoded_policy.encode(), hashlib.sha256).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def verify_signature(values: Mapping[str, str], credentials: Mapping[str, str]) -> frozenset[str]:
    """Check the form's signature; returns the field names that version exempts from the policy."""
    if "x-amz-algorithm" in values or "x-amz-signature" in values:
        _verify_sigv4(values, credentials)
        return EXEMPT_FIELDS
    if "signature" in values or "awsaccesskeyid" in values:
        # boto3 still presigns POSTs with SigV2 by default in regions that accept it.
        _verify_sigv2(values, credentials)
        return EXEMPT_FIELDS_V2
    raise missing_field("x-amz-algorithm")


def _verify_sigv4(values: Mapping[str, str], credentials: Mapping[str, str]) -> None:
    if values.get("x-amz-algorithm") != SIGV4_ALGORITHM:
        raise S3Error(
            400,
            "InvalidRequest",
            "The authorization mechanism you have provided is not supported. "
            "Please use AWS4-HMAC-SHA256.",
        )
    for name in ("x-amz-credential", "x-amz-signature"):
        if name not in values:
            raise missing_field(name)
    access_key, date, region, service = _parse_credential(values["x-amz-credential"])
    secret = _secret(credentials, access_key)
    expected = sign_policy(values["policy"], secret, date, region, service)
    _compare(expected, values["x-amz-signature"], access_key, values["policy"])


def _verify_sigv2(values: Mapping[str, str], credentials: Mapping[str, str]) -> None:
    for name in ("AWSAccessKeyId", "signature"):
        if name.lower() not in values:
            raise missing_field(name)
    access_key = values["awsaccesskeyid"]
    secret = _secret(credentials, access_key)
    digest = hmac.new(secret.encode(), values["policy"].encode(), hashlib.sha1).digest()
    _compare(base64.b64encode(digest).decode(), values["signature"], access_key, values["policy"])


def _secret(credentials: Mapping[str, str], access_key: str) -> str:
    secret = credentials.get(access_key)
    if secret is None:
        raise S3Error(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            [("AWSAccessKeyId", access_key)],
        )
    return secret


def _compare(expected: str, provided: str, access_key: str, string_to_sign: str) -> None:
    if not hmac.compare_digest(expected.encode(), provided.encode()):
        raise S3Error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            [("AWSAccessKeyId", access_key), ("StringToSign", string_to_sign),
             ("SignatureProvided", provided)],
        )


def _parse_credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise invalid_argument(
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
            "x-amz-credential",
            credential,
        )
    return parts[0], parts[1], parts[2], parts[3]


# --- evaluation ---------------------------------------------------------------------------


def check_expiration(policy: PostPolicy, now: datetime) -> None:
    if now >= policy.expiration:
        raise policy_denied("Policy expired.")


def check_conditions(policy: PostPolicy, values: Mapping[str, str], bucket: str) -> None:
    for condition in policy.conditions:
        # The bucket is not a form field: S3 takes it from the request target.
        actual = bucket if condition.field == "bucket" else values.get(condition.field)
        if actual is None or not _satisfies(condition, actual):
            raise policy_denied(f"Policy Condition failed: {condition.text}")


def _satisfies(condition: FieldCondition, actual: str) -> bool:
    if condition.op == "eq":
        return actual == condition.value
    if condition.field == "content-type":
        # S3 accepts a comma-separated Content-Type list when every entry has the prefix.
        return all(part.strip().startswith(condition.value) for part in actual.split(","))
    return actual.startswith(condition.value)


def check_extra_fields(
    policy: PostPolicy, names: Iterable[str], exempt: frozenset[str] = EXEMPT_FIELDS
) -> None:
    covered = {condition.field for condition in policy.conditions}
    extra: list[str] = []
    for name in names:
        lowered = name.lower()
        if lowered in covered or lowered in exempt or lowered.startswith(IGNORED_PREFIX):
            continue
        if name not in extra:
            extra.append(name)
    if extra:
        raise policy_denied(f"Extra input fields: {', '.join(extra)}")


def check_size(policy: PostPolicy, size: int) -> None:
    if policy.max_size is not None and size > policy.max_size:
        raise entity_too_large(size, policy.max_size)
    if size < policy.min_size:
        raise entity_too_small(size, policy.min_size)


def validate_fields(
    fields: FormFields, bucket: str, credentials: Mapping[str, str], now: datetime
) -> PostPolicy:
    """Every check that needs only the text fields (the file size is checked later)."""
    values = field_values(fields)
    if "key" not in values:
        raise missing_field("key")
    if "policy" not in values:
        # Without a policy S3 treats the POST as anonymous; our buckets are not public.
        raise access_denied()
    exempt = verify_signature(values, credentials)
    policy = decode_policy(values["policy"])
    check_expiration(policy, now)
    check_conditions(policy, values, bucket)
    check_extra_fields(policy, (name for name, _ in fields), exempt)
    return policy
