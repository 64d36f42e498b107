"""The media bucket: upload forms signed, uploaded originals checked and read, web variants written.

The client honours AWS_ENDPOINT_URL_S3 (the local S3 emulator or LocalStack); on AWS it is unset and
the function's role grants access. boto3 is imported at the first S3 call, not with this module: it
costs about a second of cold start that API requests other than uploads should not pay.

Originals are never moved or copied: they stay under `uploads/`, where the bucket's lifecycle rule
expires them (template.yaml, AbandonedUploadDays). Only the variants, stripped of every metadata (EXIF
location included), are kept and served. Deleting media (a deleted post's, or never attached ones:
`kafkagram.flows.media_cleanup`) deletes its objects and, on AWS, invalidates their CDN copies.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kafkagram.config import get_settings

if TYPE_CHECKING:  # the API signs forms without loading the image code
    from kafkagram.media import Variant

VARIANTS_PREFIX = "media"
# A variant's key names one media and width and its bytes never change (processing runs once per
# media, and a redelivery would write identical bytes): browsers and CDNs may keep it for a year.
VARIANT_CACHE_CONTROL = "public, max-age=31536000, immutable"
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
DELETE_BATCH = 1000  # keys per DeleteObjects request, S3's limit
# The CloudFront distribution serving the variants (template.yaml gives it on AWS); unset locally, where
# the bucket serves them itself and there is no cache to invalidate.
DISTRIBUTION_ENV = "MEDIA_DISTRIBUTION_ID"
_CLIENT_SETTINGS: dict[str, Any] = {
    # Transient S3 errors are retried here a few times, then raised so the event source mapping retries.
    "retries": {"mode": "standard", "max_attempts": 3},
    "connect_timeout": 5,
    "read_timeout": 30,
    "max_pool_connections": 10,
    # Presigned POST policies must be SigV4: botocore signs them with the legacy v2 scheme by default.
    "signature_version": "s3v4",
}


class ObjectMissing(LookupError):
    """The object is not in the bucket (e.g. the upload expired before it was processed)."""


class ObjectTooLarge(ValueError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the object is {size} bytes; the limit is {limit}")
        self.size = size
        self.limit = limit


def s3_client() -> Any:
    """One client per sandbox and endpoint (creating one costs tens of milliseconds)."""
    return _client(get_settings().aws_endpoint_url_s3)


@lru_cache(maxsize=4)
def _client(endpoint_url: str | None) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint_url, config=Config(**_CLIENT_SETTINGS))


def _head_or_get(call: Any, bucket: str, key: str) -> Any:
    """`call(Bucket=, Key=)`, with a missing object raised as ObjectMissing."""
    from botocore.exceptions import ClientError

    try:
        return call(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING_CODES:
            raise ObjectMissing(f"s3://{bucket}/{key} does not exist") from error
        raise


def media_bucket() -> str:
    return get_settings().media_bucket


def public_variants_policy(bucket: str) -> dict[str, Any]:
    """Anyone may GET the processed variants (never the originals under the upload prefix). Locally the
    bucket serves them itself; on AWS the bucket stays private and a CDN is given this access instead."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicReadOfProcessedVariants", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/{VARIANTS_PREFIX}/*"}]}


def variant_key(media_id: int, width: int) -> str:
    return f"{VARIANTS_PREFIX}/{media_id}/{width}.jpg"


@dataclass(frozen=True, slots=True)
class UploadForm:
    url: str
    fields: dict[str, str]  # sent as they are, before the file


def upload_form(bucket: str, key: str, content_type: str, max_bytes: int, expires_s: int) -> UploadForm:
    """A presigned POST that stores one object at `key`, of exactly this type and 1..max_bytes bytes;
    S3 (or the local emulator, which enforces the same policy) refuses anything else."""
    form = s3_client().generate_presigned_post(
        Bucket=bucket, Key=key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]], ExpiresIn=expires_s)
    return UploadForm(url=form["url"], fields=form["fields"])


def stored_type_and_size(bucket: str, key: str) -> tuple[str, int]:
    """The content type and size S3 stored for the object (never what a client declared); ObjectMissing."""
    head = _head_or_get(s3_client().head_object, bucket, key)
    content_type = str(head.get("ContentType") or "").split(";")[0].strip().lower()
    return content_type, int(head.get("ContentLength", 0))


def read_object(bucket: str, key: str, max_bytes: int) -> bytes:
    """The object's bytes; ObjectTooLarge (before reading the body) over `max_bytes`, ObjectMissing if absent."""
    response = _head_or_get(s3_client().get_object, bucket, key)
    body = response["Body"]
    size = int(response.get("ContentLength", 0))
    if size > max_bytes:
        body.close()  # never pull an oversized upload into the sandbox's memory
        raise ObjectTooLarge(size, max_bytes)
    with body:
        data: bytes = body.read(max_bytes + 1)
    if len(data) > max_bytes:  # a length the header did not announce
        raise ObjectTooLarge(len(data), max_bytes)
    return data


def put_variants(bucket: str, media_id: int, variants: Sequence[Variant]) -> list[dict[str, Any]]:
    """Write each variant to `media/<media_id>/<width>.jpg` (in parallel) and return their
    descriptions as the media-processed event carries them: width, height, object_key,
    content_type, size_bytes."""
    client = s3_client()

    def put(variant: Variant) -> dict[str, Any]:
        key = variant_key(media_id, variant.width)
        client.put_object(Bucket=bucket, Key=key, Body=variant.data, ContentType=variant.content_type,
                          CacheControl=VARIANT_CACHE_CONTROL)
        return {"width": variant.width, "height": variant.height, "object_key": key,
                "content_type": variant.content_type, "size_bytes": len(variant.data)}

    if len(variants) <= 1:
        return [put(variant) for variant in variants]
    with ThreadPoolExecutor(max_workers=len(variants)) as pool:  # boto3 clients are thread-safe
        return list(pool.map(put, variants))


def delete_objects(bucket: str, keys: Iterable[str]) -> int:
    """Delete the objects (a missing one is no error: deleting is idempotent); returns how many keys were
    asked for. Raises when S3 refuses one, so the caller's event is retried."""
    unique = list(dict.fromkeys(keys))
    client = s3_client()
    for start in range(0, len(unique), DELETE_BATCH):
        chunk = unique[start:start + DELETE_BATCH]
        response = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in chunk],
                                                                "Quiet": True})
        errors = [error for error in response.get("Errors", []) if error.get("Code") not in _MISSING_CODES]
        if errors:
            raise RuntimeError(f"S3 did not delete {len(errors)} objects of s3://{bucket}, e.g. "
                               f"{errors[0].get('Key')}: {errors[0].get('Code')} {errors[0].get('Message')}")
    return len(unique)


def cdn_paths(keys: Iterable[str]) -> list[str]:
    """The CloudFront paths to invalidate for these objects: each variant's own path. Not one wildcard per
    media: CloudFront allows only 15 wildcard paths in progress at a time, but 3,000 file paths.
    Originals are never served, so they have none."""
    return sorted({"/" + key for key in keys if key.startswith(VARIANTS_PREFIX + "/")})


def invalidate_cdn(paths: Sequence[str], reference: str) -> str | None:
    """Ask CloudFront to drop its copies of `paths`; returns the invalidation id, or None when there is no
    distribution (locally) or nothing to drop. `reference` (the event id) makes a retried call the same
    invalidation rather than a second one."""
    distribution = os.environ.get(DISTRIBUTION_ENV)
    if not distribution or not paths:
        return None
    response = _cloudfront().create_invalidation(DistributionId=distribution, InvalidationBatch={
        "Paths": {"Quantity": len(paths), "Items": list(paths)}, "CallerReference": reference})
    return str(response["Invalidation"]["Id"])


@lru_cache(maxsize=1)
def _cloudfront() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("cloudfront", config=Config(retries={"mode": "standard", "max_attempts": 3}))
