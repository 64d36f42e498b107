"""LocalStack ready hook: the media bucket with the CORS and lifecycle rules template.yaml gives it on AWS.

docker-compose.yml mounts localstack/init at /etc/localstack/init. LocalStack runs a `.py` hook with
`exec(source, {})` inside its own interpreter (boto3 is there), so this file is self-contained and
`__name__` is then the builtins module's. tests/integration/deploy/test_localstack_init.py runs it the same way
against the local S3 emulator and checks the result against template.yaml's MediaBucket.

Environment (set on the localstack service): MEDIA_BUCKET, WEB_ORIGIN, ABANDONED_UPLOAD_DAYS, and
INIT_S3_ENDPOINT (default: LocalStack itself).
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

UPLOADS_PREFIX = "uploads/"


def cors_rules(web_origin: str) -> list[dict[str, Any]]:
    """Browser presigned POST uploads and GETs from the web app's origin."""
    return [{
        "AllowedOrigins": [web_origin],
        "AllowedMethods": ["GET", "HEAD", "POST"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3000,
    }]


def lifecycle_rules(abandoned_upload_days: int) -> list[dict[str, Any]]:
    """Abort multipart uploads left open; expire originals never moved out of uploads/."""
    return [
        {"ID": "abort-incomplete-multipart-uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        {"ID": "expire-abandoned-uploads", "Status": "Enabled", "Filter": {"Prefix": UPLOADS_PREFIX},
         "Expiration": {"Days": abandoned_upload_days}},
    ]


def public_variants_policy(bucket: str) -> dict[str, Any]:
    """As kafkagram.storage.public_variants_policy (this hook runs inside LocalStack, without the layer):
    the processed variants are public, the originals are not."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicReadOfProcessedVariants", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/media/*"}]}


def ensure_media_bucket(s3: Any, bucket: str, web_origin: str, abandoned_upload_days: int) -> None:
    """Create the bucket if missing and (re)apply its rules; safe to run on every start."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": cors_rules(web_origin)})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_variants_policy(bucket)))
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle_rules(abandoned_upload_days)})


def main() -> None:
    # LocalStack accepts any credentials; explicit ones keep the hook independent of the container's.
    s3 = boto3.client("s3", endpoint_url=os.environ.get("INIT_S3_ENDPOINT", "http://localhost:4566"),
                      region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    ensure_media_bucket(s3, os.environ.get("MEDIA_BUCKET", "kafkagram-media"),
                        os.environ.get("WEB_ORIGIN", "http://127.0.0.1:3000"),
                        int(os.environ.get("ABANDONED_UPLOAD_DAYS", "2")))


if __name__ in ("__main__", "builtins"):  # run by `python`, or exec()'d by LocalStack
    main()
