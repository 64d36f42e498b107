"""S3 emulator: each backend (moto in memory, s3rver on files) behind the policy-enforcing front,
exercised over real HTTP.

Presigned POST forms come from boto3/botocore (an independent signer); the front must
answer them as S3 does, whichever backend stores the objects. See docs/aws-semantics.md, section 4.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4PostAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from emulator.s3.server import FALLBACK_CREDENTIALS, S3Emulator, default_credentials
from tests.support.repo import REPO
from tests.support.s3_forms import Reply, http_request, post_form, read_line
from tests.support.waiting import wait_for

ACCESS_KEY, SECRET_KEY = "test", "test"
REGION = "us-east-1"
BUCKET = "kafkagram-photos"
ALLOWED_ORIGIN = "http://localhost:5173"
OTHER_ORIGIN = "http://evil.example"
PHOTO_CONDITIONS: list[Any] = [
    ["content-length-range", 1, 1024],
    ["starts-with", "$Content-Type", "image/"],
    ["starts-with", "$key", "uploads/u1/"],
]


@dataclass
class Env:
    url: str
    s3: Any  # boto3 S3 client, SigV4 presigning
    s3_v2: Any  # boto3 S3 client with default settings (presigns POST with SigV2 in us-east-1)


def s3_client(url: str, **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(**config),
    )


@pytest.fixture(scope="module", params=["moto", "files"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    backend = request.param
    data_dir = tmp_path_factory.mktemp("s3-files") if backend == "files" else None
    emulator = S3Emulator(port=0, credentials={ACCESS_KEY: SECRET_KEY}, backend=backend, data_dir=data_dir)
    url = emulator.start()
    try:
        s3 = s3_client(url, signature_version="s3v4")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_cors(
            Bucket=BUCKET,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": [ALLOWED_ORIGIN],
                        "AllowedMethods": ["GET", "PUT", "POST"],
                        "AllowedHeaders": ["*"],
                        "ExposeHeaders": ["ETag"],
                        "MaxAgeSeconds": 600,
                    }
                ]
            },
        )
        yield Env(url, s3, s3_client(url))
    finally:
        emulator.stop()


def presign(
    env: Env,
    key: str,
    conditions: list[Any] | None = None,
    fields: dict[str, str] | None = None,
    expires: int = 300,
) -> dict[str, Any]:
    return env.s3.generate_presigned_post(
        BUCKET,
        key,
        Fields={"Content-Type": "image/png", **(fields or {})},
        Conditions=PHOTO_CONDITIONS + (conditions or []),
        ExpiresIn=expires,
    )


def unique_key(name: str = "photo.png") -> str:
    return f"uploads/u1/{uuid.uuid4().hex}/{name}"


def object_exists(env: Env, key: str) -> bool:
    return env.s3.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount", 0) > 0


def decode_policy(post: dict[str, Any]) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(base64.b64decode(post["fields"]["policy"]))
    return policy


def sign_post(policy: dict[str, Any], fields: dict[str, str], access_key: str = ACCESS_KEY) -> dict[str, str]:
    """Sign a hand-made policy with botocore's own SigV4 POST signer."""
    request = AWSRequest(method="POST", url="http://unused/")
    request.context["s3-presign-post-fields"] = dict(fields)
    request.context["s3-presign-post-policy"] = policy
    S3SigV4PostAuth(Credentials(access_key, SECRET_KEY), "s3", REGION).add_auth(request)
    signed: dict[str, str] = request.context["s3-presign-post-fields"]
    return signed


# --- uploads within and outside the policy ------------------------------------------------


def test_upload_within_policy_is_stored_and_readable(env: Env) -> None:
    key = unique_key()
    post = presign(env, key)
    data = b"\x89PNG" + os.urandom(500)

    reply = post_form(post["url"], post["fields"], data)

    assert reply.status == 204, reply.body
    assert reply.body == b""
    head = env.s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ContentType"] == "image/png"
    assert reply.headers["ETag"] == head["ETag"]
    assert env.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


def test_filename_variable_is_expanded_before_the_policy_check(env: Env) -> None:
    prefix = f"uploads/u1/{uuid.uuid4().hex}/"
    post = env.s3.generate_presigned_post(
        BUCKET,
        prefix + "${filename}",
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[["content-length-range", 1, 1024], ["starts-with", "$Content-Type", "image/"]],
    )

    reply = post_form(post["url"], post["fields"], b"jpeg", filename="albums/2026/cat.jpg")

    assert reply.status == 204, reply.body
    assert env.s3.head_object(Bucket=BUCKET, Key=prefix + "cat.jpg")["ContentLength"] == 4


def test_too_large_file_is_entity_too_large(env: Env) -> None:
    key = unique_key()
    post = presign(env, key)

    reply = post_form(post["url"], post["fields"], b"x" * 1025)

    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/xml"
    root = reply.xml()
    assert root.findtext("Code") == "EntityTooLarge"
    assert root.findtext("Message") == "Your proposed upload exceeds the maximum allowed size"
    assert root.findtext("MaxSizeAllowed") == "1024"
    assert root.findtext("ProposedSize") == "1025"
    assert root.findtext("RequestId")
    assert not object_exists(env, key)


def test_empty_file_is_entity_too_small(env: Env) -> None:
    key = unique_key()
    post = presign(env, key)

    reply = post_form(post["url"], post["fields"], b"")

    assert reply.status == 400
    root = reply.xml()
    assert root.findtext("Code") == "EntityTooSmall"
    assert root.findtext("MinSizeAllowed") == "1"
    assert root.findtext("ProposedSize") == "0"
    assert not object_exists(env, key)


def test_wrong_content_type_fails_the_named_condition(env: Env) -> None:
    key = unique_key()
    post = presign(env, key)
    fields = {**post["fields"], "Content-Type": "text/html"}

    reply = post_form(post["url"], fields, b"<script>")

    assert reply.status == 403
    assert reply.error() == (
        "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]',
    )
    assert not object_exists(env, key)


def test_key_outside_the_prefix_is_denied(env: Env) -> None:
    post = env.s3.generate_presigned_post(
        BUCKET,
        "uploads/u1/${filename}",
        Fields={"Content-Type": "image/png"},
        Conditions=PHOTO_CONDITIONS,
    )
    key = f"uploads/u2/{uuid.uuid4().hex}.png"
    fields = {**post["fields"], "key": key}

    reply = post_form(post["url"], fields)

    assert reply.status == 403
    assert reply.error() == (
        "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/u1/"]',
    )
    assert not object_exists(env, key)


def test_exact_key_condition_is_enforced(env: Env) -> None:
    key = unique_key()
    post = presign(env, key)  # botocore adds {"key": key}
    fields = {**post["fields"], "key": key + ".other"}

    reply = post_form(post["url"], fields)

    assert reply.status == 403
    assert reply.error()[1] == (
        f'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "{key}"]'
    )


def test_field_without_a_condition_is_an_extra_input_field(env: Env) -> None:
    key = unique_key()
    post = presign(env, key)
    fields = [*post["fields"].items(), ("x-amz-meta-owner", "u1")]

    reply = post_form(post["url"], fields)

    assert reply.status == 403
    assert reply.error() == (
        "AccessDenied",
        "Invalid according to Policy: Extra input fields: x-amz-meta-owner",
    )
    assert not object_exists(env, key)


def test_content_type_field_needs_a_condition_too(env: Env) -> None:
    # AWS docs exempt only x-amz-signature, file, policy and x-ignore-* (not Content-Type).
    key = unique_key()
    post = env.s3.generate_presigned_post(BUCKET, key, Conditions=[["content-length-range", 1, 1024]])
    fields = {**post["fields"], "Content-Type": "image/png"}

    reply = post_form(post["url"], fields)

    assert reply.status == 403
    assert reply.error()[1] == "Invalid according to Policy: Extra input fields: Content-Type"


def test_x_ignore_fields_need_no_condition(env: Env) -> None:
    key = unique_key()
    post = presign(env, key)
    fields = [*post["fields"].items(), ("x-ignore-filename", "photo.png")]

    reply = post_form(post["url"], fields)

    assert reply.status == 204, reply.body
    assert object_exists(env, key)


def test_fields_after_the_file_are_ignored(env: Env) -> None:
    key = unique_key()
    post = presign(env, key)

    reply = post_form(post["url"], post["fields"], after_file=[("x-amz-meta-late", "ignored")])

    assert reply.status == 204, reply.body
    assert env.s3.head_object(Bucket=BUCKET, Key=key)["Metadata"] == {}


def test_key_after_the_file_does_not_count(env: Env) -> None:
    key = unique_key()
    post = presign(env, key)
    before = [(name, value) for name, value in post["fields"].items() if name != "key"]

    reply = post_form(post["url"], before, after_file=[("key", key)])

    assert reply.status == 400
    assert reply.error() == (
        "InvalidArgument",
        "Bucket POST must contain a field named 'key'.  "
        "If it is specified, please check the order of the fields.",
    )


def test_form_without_a_file_is_rejected(env: Env) -> None:
    post = presign(env, unique_key())

    reply = post_form(post["url"], post["fields"], file=None)

    assert reply.status == 400
    assert reply.error() == ("InvalidArgument", "POST requires exactly one file upload per request.")


def test_oversized_form_fields_are_rejected(env: Env) -> None:
    post = presign(env, unique_key())
    fields = [("x-ignore-padding", "p" * 21 * 1024), *post["fields"].items()]

    reply = post_form(post["url"], fields)

    assert reply.status == 400
    assert reply.error()[0] == "MaxPostPreDataLengthExceeded"


def test_upload_larger_than_the_memory_spool(env: Env) -> None:
    key = unique_key("big.jpg")
    data = os.urandom(6 * 1024 * 1024)
    post = env.s3.generate_presigned_post(
        BUCKET,
        key,
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[
            ["content-length-range", 1, 10 * 1024 * 1024],
            ["starts-with", "$Content-Type", "image/"],
        ],
    )

    reply = post_form(post["url"], post["fields"], data, file_type="image/jpeg")

    assert reply.status == 204, reply.body
    assert env.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


def test_metadata_field_with_a_condition_is_stored(env: Env) -> None:
    key = unique_key()
    post = presign(env, key, [{"x-amz-meta-owner": "u1"}], {"x-amz-meta-owner": "u1"})

    reply = post_form(post["url"], post["fields"])

    assert reply.status == 204, reply.body
    assert env.s3.head_object(Bucket=BUCKET, Key=key)["Metadata"] == {"owner": "u1"}


def test_upload_to_a_missing_bucket_relays_the_backend_error(env: Env) -> None:
    missing = f"missing-{uuid.uuid4().hex[:12]}"
    post = env.s3.generate_presigned_post(missing, "k.png", Conditions=[["content-length-range", 1, 1024]])

    reply = post_form(post["url"], post["fields"])

    assert reply.status == 404
    assert reply.error()[0] == "NoSuchBucket"


def test_broken_multipart_body_is_malformed_post(env: Env) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=nothing-here"}

    reply = http_request("POST", f"{env.url}/{BUCKET}", b"not a form at all", headers)

    assert reply.status == 400
    assert reply.error()[0] == "MalformedPOSTRequest"


# --- expiration and signatures ------------------------------------------------------------


def test_policy_is_refused_once_expired(env: Env) -> None:
    key = unique_key()
    post = presign(env, key, expires=1)
    expiration = datetime.fromisoformat(decode_policy(post)["expiration"])
    wait_for(lambda: datetime.now(UTC) > expiration, timeout=5, message="policy expiration")

    reply = post_form(post["url"], post["fields"])

    assert reply.status == 403
    assert reply.error() == ("AccessDenied", "Invalid according to Policy: Policy expired.")
    assert not object_exists(env, key)


def test_policy_signed_with_a_past_expiration_is_refused(env: Env) -> None:
    key = unique_key()
    past = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    policy = {"expiration": past, "conditions": [{"bucket": BUCKET}, {"key": key}, *PHOTO_CONDITIONS]}
    fields = sign_post(policy, {"key": key, "Content-Type": "image/png"})

    reply = post_form(f"{env.url}/{BUCKET}", fields)

    assert reply.status == 403
    assert reply.error() == ("AccessDenied", "Invalid according to Policy: Policy expired.")


def test_policy_without_expiration_is_invalid(env: Env) -> None:
    key = unique_key()
    fields = sign_post({"conditions": [{"bucket": BUCKET}, {"key": key}]}, {"key": key})

    reply = post_form(f"{env.url}/{BUCKET}", fields)

    assert reply.status == 400
    assert reply.error() == ("InvalidPolicyDocument", "Invalid Policy: Policy missing expiration.")


def test_hand_signed_valid_policy_is_accepted(env: Env) -> None:
    # Same signer as the expired case, so that case fails only because of the date.
    key = unique_key()
    future = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    policy = {"expiration": future, "conditions": [{"bucket": BUCKET}, {"key": key}, *PHOTO_CONDITIONS]}
    fields = sign_post(policy, {"key": key, "Content-Type": "image/png"})

    reply = post_form(f"{env.url}/{BUCKET}", fields)

    assert reply.status == 204, reply.body


def test_tampered_policy_does_not_match_the_signature(env: Env) -> None:
    key = unique_key()
    post = presign(env, key)
    policy = decode_policy(post)
    policy["conditions"] = [
        ["content-length-range", 1, 10**9] if isinstance(c, list) and c[0] == "content-length-range" else c
        for c in policy["conditions"]
    ]
    fields = {**post["fields"], "policy": base64.b64encode(json.dumps(policy).encode()).decode()}

    reply = post_form(post["url"], fields, b"x" * 2048)

    assert reply.status == 403
    assert reply.error()[0] == "SignatureDoesNotMatch"
    assert not object_exists(env, key)


def test_tampered_signature_is_refused(env: Env) -> None:
    post = presign(env, unique_key())
    fields = {**post["fields"], "x-amz-signature": "0" * 64}

    reply = post_form(post["url"], fields)

    assert reply.status == 403
    assert reply.error()[0] == "SignatureDoesNotMatch"


def test_unknown_access_key_is_refused(env: Env) -> None:
    stranger = boto3.client(
        "s3",
        endpoint_url=env.url,
        region_name=REGION,
        aws_access_key_id="AKIASTRANGER",
        aws_secret_access_key="whatever",
        config=Config(signature_version="s3v4"),
    )
    key = unique_key()
    post = stranger.generate_presigned_post(
        BUCKET, key, Fields={"Content-Type": "image/png"}, Conditions=PHOTO_CONDITIONS
    )

    reply = post_form(post["url"], post["fields"])

    assert reply.status == 403
    assert reply.error() == (
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
    )
    assert not object_exists(env, key)


def test_bucket_condition_is_checked_against_the_url(env: Env) -> None:
    other = f"other-{uuid.uuid4().hex[:12]}"
    env.s3.create_bucket(Bucket=other)
    post = presign(env, unique_key())  # policy says {"bucket": BUCKET}

    reply = post_form(f"{env.url}/{other}", post["fields"])

    assert reply.status == 403
    assert reply.error()[1] == (
        f'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "{BUCKET}"]'
    )


def test_sigv2_presigned_post_from_a_default_client(env: Env) -> None:
    # boto3 presigns POST with SigV2 by default in us-east-1; S3 still accepts it there.
    key = unique_key()
    post = env.s3_v2.generate_presigned_post(
        BUCKET, key, Fields={"Content-Type": "image/png"}, Conditions=PHOTO_CONDITIONS
    )
    assert "signature" in post["fields"]

    accepted = post_form(post["url"], post["fields"])
    tampered = post_form(post["url"], {**post["fields"], "signature": "AAAA"})

    assert accepted.status == 204, accepted.body
    assert tampered.status == 403
    assert tampered.error()[0] == "SignatureDoesNotMatch"


def test_form_without_policy_is_anonymous_and_denied(env: Env) -> None:
    key = unique_key()
    reply = post_form(f"{env.url}/{BUCKET}", {"key": key, "Content-Type": "image/png"})

    assert reply.status == 403
    assert reply.error() == ("AccessDenied", "Access Denied")
    assert not object_exists(env, key)


# --- success responses --------------------------------------------------------------------


def test_success_action_status_201_returns_post_response_xml(env: Env) -> None:
    key = unique_key("a photo+1.png")
    post = presign(env, key, [{"success_action_status": "201"}], {"success_action_status": "201"})

    reply = post_form(post["url"], post["fields"])

    assert reply.status == 201, reply.body
    assert reply.headers["Content-Type"] == "application/xml"
    root = reply.xml()
    assert root.tag == "PostResponse"
    assert root.findtext("Bucket") == BUCKET
    assert root.findtext("Key") == key
    assert root.findtext("ETag") == env.s3.head_object(Bucket=BUCKET, Key=key)["ETag"]
    assert root.findtext("Location") == f"{env.url}/{BUCKET}/{key.replace(' ', '%20').replace('+', '%2B')}"


@pytest.mark.parametrize(("asked", "expected"), [("200", 200), ("204", 204), ("418", 204)])
def test_success_action_status_200_and_204_return_empty(env: Env, asked: str, expected: int) -> None:
    key = unique_key()
    post = presign(env, key, [{"success_action_status": asked}], {"success_action_status": asked})

    reply = post_form(post["url"], post["fields"])

    assert reply.status == expected
    assert reply.body == b""
    assert object_exists(env, key)


def test_success_action_redirect_adds_bucket_key_and_etag(env: Env) -> None:
    key = unique_key()
    redirect = "http://localhost:5173/done?step=2"
    post = presign(env, key, [{"success_action_redirect": redirect}], {"success_action_redirect": redirect})

    reply = post_form(post["url"], post["fields"])

    assert reply.status == 303
    location = urlsplit(reply.headers["Location"])
    query = parse_qs(location.query)
    assert location.netloc == "localhost:5173" and location.path == "/done"
    assert query["step"] == ["2"] and query["bucket"] == [BUCKET] and query["key"] == [key]
    assert query["etag"] == [env.s3.head_object(Bucket=BUCKET, Key=key)["ETag"]]


# --- CORS ---------------------------------------------------------------------------------


def preflight(env: Env, origin: str) -> Reply:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    return http_request("OPTIONS", f"{env.url}/{BUCKET}", headers=headers)


def test_preflight_from_the_allowed_origin_succeeds(env: Env) -> None:
    reply = preflight(env, ALLOWED_ORIGIN)

    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]


def test_preflight_from_another_origin_is_refused(env: Env) -> None:
    reply = preflight(env, OTHER_ORIGIN)

    assert reply.status == 403
    assert reply.headers["Access-Control-Allow-Origin"] is None


def test_preflight_of_an_object_key_uses_the_bucket_rules(env: Env) -> None:
    headers = {"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "PUT",
               "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"}

    reply = http_request("OPTIONS", f"{env.url}/{BUCKET}/uploads/u1/photo.png", headers=headers)

    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert reply.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-date"
    assert reply.headers["Access-Control-Max-Age"] == "600"


def test_preflight_for_a_method_no_rule_allows_is_refused(env: Env) -> None:
    headers = {"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "DELETE"}

    reply = http_request("OPTIONS", f"{env.url}/{BUCKET}", headers=headers)

    assert reply.status == 403
    assert reply.error()[0] == "AccessForbidden"


def test_preflight_without_origin_is_a_bad_request(env: Env) -> None:
    reply = http_request("OPTIONS", f"{env.url}/{BUCKET}", headers={"Access-Control-Request-Method": "POST"})

    assert reply.status == 400
    assert reply.error() == ("BadRequest", "Insufficient information. Origin request header needed.")


def test_preflight_on_a_bucket_without_cors_is_refused(env: Env) -> None:
    other = f"nocors-{uuid.uuid4().hex[:12]}"
    env.s3.create_bucket(Bucket=other)

    reply = http_request("OPTIONS", f"{env.url}/{other}",
                         headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"})

    assert reply.status == 403
    assert reply.error() == ("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")


def test_rejected_post_carries_cors_headers_for_the_allowed_origin_only(env: Env) -> None:
    post = presign(env, unique_key())

    allowed = post_form(post["url"], post["fields"], b"x" * 2048, origin=ALLOWED_ORIGIN)
    other = post_form(post["url"], post["fields"], b"x" * 2048, origin=OTHER_ORIGIN)

    assert allowed.status == other.status == 400
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert allowed.headers["Access-Control-Expose-Headers"] == "ETag"
    assert other.headers["Access-Control-Allow-Origin"] is None


def test_accepted_post_carries_cors_headers(env: Env) -> None:
    post = presign(env, unique_key())

    reply = post_form(post["url"], post["fields"], origin=ALLOWED_ORIGIN)

    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


# --- plain S3 API through the front -------------------------------------------------------


def test_boto3_object_operations_pass_through(env: Env) -> None:
    key = f"plain/{uuid.uuid4().hex}/data.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)

    env.s3.put_object(Bucket=BUCKET, Key=key, Body=data, ContentType="application/x-test")

    head = env.s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ContentType"] == "application/x-test"
    assert env.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data
    ranged = env.s3.get_object(Bucket=BUCKET, Key=key, Range="bytes=10-19")
    assert ranged["Body"].read() == data[10:20]
    listed = env.s3.list_objects_v2(Bucket=BUCKET, Prefix=key.rsplit("/", 1)[0])
    assert [item["Key"] for item in listed["Contents"]] == [key]
    env.s3.delete_object(Bucket=BUCKET, Key=key)
    assert not object_exists(env, key)


def test_bucket_policy_round_trip(env: Env) -> None:
    bucket = f"policy-{uuid.uuid4().hex[:12]}"
    env.s3.create_bucket(Bucket=bucket)
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/media/*"}]}

    env.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    assert json.loads(env.s3.get_bucket_policy(Bucket=bucket)["Policy"]) == policy
    env.s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(env.s3.exceptions.ClientError) as missing:
        env.s3.get_bucket_policy(Bucket=bucket)
    assert missing.value.response["Error"]["Code"] == "NoSuchBucketPolicy"


def test_delete_objects_removes_every_key(env: Env) -> None:
    prefix = f"plain/{uuid.uuid4().hex}/"
    keys = [f"{prefix}{n}.jpg" for n in range(3)]
    for key in keys:
        env.s3.put_object(Bucket=BUCKET, Key=key, Body=b"v", ContentType="image/jpeg")

    response = env.s3.delete_objects(Bucket=BUCKET, Delete={
        "Objects": [{"Key": key} for key in [*keys, f"{prefix}never-there.jpg"]], "Quiet": True})

    assert response.get("Errors", []) == []
    assert env.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("KeyCount", 0) == 0


def test_presigned_get_through_the_front(env: Env) -> None:
    key = f"plain/{uuid.uuid4().hex}/q uoted+name.txt"
    env.s3.put_object(Bucket=BUCKET, Key=key, Body=b"hello")
    url = env.s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key})

    reply = http_request("GET", url)

    assert reply.status == 200
    assert reply.body == b"hello"


def test_backend_errors_pass_through(env: Env) -> None:
    reply = http_request("GET", f"{env.url}/{BUCKET}/missing/{uuid.uuid4().hex}")

    assert reply.status == 404
    assert reply.error()[0] == "NoSuchKey"


# --- configuration and CLI ----------------------------------------------------------------


def test_default_credentials_prefer_the_environment() -> None:
    assert default_credentials({"AWS_ACCESS_KEY_ID": "AKIAX", "AWS_SECRET_ACCESS_KEY": "s"}) == {"AKIAX": "s"}
    assert default_credentials({}) == FALLBACK_CREDENTIALS
    assert FALLBACK_CREDENTIALS == {"test": "test", "testing": "testing"}


def test_endpoint_url_requires_start() -> None:
    with pytest.raises(RuntimeError):
        _ = S3Emulator().endpoint_url


def test_module_entry_point_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator.s3", "--host", "127.0.0.1", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = read_line(process, timeout=60)
        assert url.startswith("http://127.0.0.1:")
        s3 = s3_client(url)
        s3.create_bucket(Bucket="cli-bucket")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["cli-bucket"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
