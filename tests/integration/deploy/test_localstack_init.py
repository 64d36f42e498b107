"""LocalStack's ready hook (localstack/init/ready.d/media_bucket.py), run as LocalStack runs it, against
our local S3 emulator: it makes the media bucket with the CORS and lifecycle rules of template.yaml's
MediaBucket, again without error on a second start, and with the CORS rule `make up` sets."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from emulator.s3.server import S3Emulator
from emulator.template import Template
from kafkagram.config import Settings
from kafkagram.storage import public_variants_policy, variant_key
from kafkagram_local.services import LocalServices
from tests.support.repo import REPO
from tests.support.services import s3_client

HOOK = REPO / "localstack" / "init" / "ready.d" / "media_bucket.py"
ORIGIN = "http://127.0.0.1:3000"


@pytest.fixture(scope="module")
def empty_s3_endpoint() -> Iterator[str]:
    """An S3 emulator without buckets: the hook makes the media bucket, as in LocalStack."""
    emulator = S3Emulator(port=0)
    yield emulator.start()
    emulator.stop()


def run_hook_like_localstack(monkeypatch: pytest.MonkeyPatch, endpoint: str, bucket: str) -> None:
    # localstack/runtime/init.py PythonScriptRunner: exec(fd.read(), {}) in LocalStack's interpreter.
    monkeypatch.setenv("INIT_S3_ENDPOINT", endpoint)
    monkeypatch.setenv("MEDIA_BUCKET", bucket)
    monkeypatch.setenv("WEB_ORIGIN", ORIGIN)
    monkeypatch.setenv("ABANDONED_UPLOAD_DAYS", "2")
    exec(HOOK.read_bytes(), {})


def template_cors(template: Template) -> list[dict[str, Any]]:
    """The template's CORS rules (CloudFormation names) in the S3 API's names."""
    names = {"AllowedOrigins": "AllowedOrigins", "AllowedMethods": "AllowedMethods",
             "AllowedHeaders": "AllowedHeaders", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
    rules = template.resources["MediaBucket"].properties["CorsConfiguration"]["CorsRules"]
    return [{names[key]: value for key, value in rule.items()} for rule in rules]


def template_lifecycle(template: Template) -> list[dict[str, Any]]:
    """The template's lifecycle rules (CloudFormation shape) as comparable tuples."""
    rules = template.resources["MediaBucket"].properties["LifecycleConfiguration"]["Rules"]
    return sorted([{
        "id": rule["Id"], "status": rule["Status"], "prefix": rule.get("Prefix", ""),
        "expire_days": rule.get("ExpirationInDays"),
        "abort_days": (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"),
    } for rule in rules], key=lambda r: r["id"])


def bucket_lifecycle(s3: Any, bucket: str) -> list[dict[str, Any]]:
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    return sorted([{
        "id": rule["ID"], "status": rule["Status"],
        "prefix": (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix", "")),
        "expire_days": (rule.get("Expiration") or {}).get("Days"),
        "abort_days": (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"),
    } for rule in rules], key=lambda r: r["id"])


def test_the_hook_is_the_only_ready_script_and_a_python_one():
    scripts = sorted(p.name for p in HOOK.parent.iterdir() if p.suffix in (".py", ".sh"))
    assert scripts == [HOOK.name]


def test_hook_makes_the_bucket_of_the_template(monkeypatch, empty_s3_endpoint, local_template):
    bucket = f"media-{uuid.uuid4().hex[:10]}"
    run_hook_like_localstack(monkeypatch, empty_s3_endpoint, bucket)
    run_hook_like_localstack(monkeypatch, empty_s3_endpoint, bucket)  # every LocalStack start runs it again

    s3 = s3_client(empty_s3_endpoint)
    s3.head_bucket(Bucket=bucket)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == template_cors(local_template)
    assert bucket_lifecycle(s3, bucket) == template_lifecycle(local_template)
    assert local_template.parameters["WebOrigin"] == ORIGIN  # the origin the comparison used


def test_hook_and_make_up_set_the_same_cors(monkeypatch, empty_s3_endpoint, tmp_path):
    """In Docker Compose the runtime re-applies its own CORS after the hook: it must be the same rule."""
    hook_bucket, runtime_bucket = (f"{kind}-{uuid.uuid4().hex[:10]}" for kind in ("hook", "runtime"))
    run_hook_like_localstack(monkeypatch, empty_s3_endpoint, hook_bucket)
    # As docker-compose.yml gives the runtime.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    services = LocalServices(Settings(aws_endpoint_url_s3=empty_s3_endpoint, media_bucket=runtime_bucket,
                                      web_origin=ORIGIN), tmp_path)
    services._ensure_bucket()
    s3 = s3_client(empty_s3_endpoint)
    assert s3.get_bucket_cors(Bucket=hook_bucket)["CORSRules"] == s3.get_bucket_cors(
        Bucket=runtime_bucket)["CORSRules"]


def test_hook_and_make_up_publish_only_the_processed_variants(monkeypatch, empty_s3_endpoint, tmp_path):
    """Both set the same bucket policy: an anonymous GET reaches a variant, never an original upload."""
    hook_bucket, runtime_bucket = (f"{kind}-{uuid.uuid4().hex[:10]}" for kind in ("hook", "runtime"))
    run_hook_like_localstack(monkeypatch, empty_s3_endpoint, hook_bucket)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    LocalServices(Settings(aws_endpoint_url_s3=empty_s3_endpoint, media_bucket=runtime_bucket, web_origin=ORIGIN),
                  tmp_path)._ensure_bucket()
    s3 = s3_client(empty_s3_endpoint)
    for bucket in (hook_bucket, runtime_bucket):
        assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == public_variants_policy(bucket)
        s3.put_object(Bucket=bucket, Key=variant_key(1, 320), Body=b"variant")
        s3.put_object(Bucket=bucket, Key="uploads/1/original", Body=b"original")
        assert requests.get(f"{empty_s3_endpoint}/{bucket}/{variant_key(1, 320)}", timeout=10).status_code == 200
        assert requests.get(f"{empty_s3_endpoint}/{bucket}/uploads/1/original", timeout=10).status_code == 403
