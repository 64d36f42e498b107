"""The file-backed S3 (s3rver behind the POST-policy front): objects uploaded through the front are
served again by a later emulator on the same data directory, after a clean stop or a `kill -9`, and the
Node process never outlives whoever started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulator.s3.files import S3rverProcess, is_s3rver
from emulator.s3.server import S3Emulator
from tests.support.repo import REPO
from tests.support.s3_forms import http_request, post_form, read_line
from tests.support.services import free_port
from tests.support.waiting import wait_for

CREDENTIALS = {"test": "test"}
BUCKET = "kafkagram-media"


def client(url: str) -> Any:
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(signature_version="s3v4"))


def upload(url: str, key: str, data: bytes, content_type: str) -> None:
    """Through the front as a browser does: the app's presigned POST form (exact type, size range)."""
    post = client(url).generate_presigned_post(
        BUCKET, key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, 10 * 1024 * 1024]])
    reply = post_form(post["url"], post["fields"], data, file_type=content_type)
    assert reply.status == 204, reply.body


def fetch(url: str, key: str) -> tuple[bytes, str]:
    """An anonymous GET, as an <img> does: (bytes, Content-Type)."""
    with urllib.request.urlopen(f"{url}/{BUCKET}/{key}", timeout=30) as response:
        return response.read(), response.headers["Content-Type"]


def start(data_dir: Path, port: int = 0) -> S3Emulator:
    emulator = S3Emulator(port=port, credentials=CREDENTIALS, backend="files", data_dir=data_dir)
    emulator.start()
    return emulator


def test_objects_survive_a_stop_and_start_on_the_same_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "s3"
    original, variant = os.urandom(300_000), os.urandom(20_000)
    emulator = start(data_dir)
    try:
        s3 = client(emulator.endpoint_url)
        s3.create_bucket(Bucket=BUCKET)
        upload(emulator.endpoint_url, "uploads/u1/photo.png", original, "image/png")
        s3.put_object(Bucket=BUCKET, Key="media/1/640.jpg", Body=variant, ContentType="image/jpeg",
                      CacheControl="public, max-age=31536000, immutable")
    finally:
        emulator.stop()
    # What a kill in the middle of a write leaves: removed at the next start, never served.
    partial = data_dir / BUCKET / "media" / "1" / "640.jpg._S3rver_object.partial-999-1"
    partial.write_bytes(b"half an image")

    again = start(data_dir)
    try:
        assert not partial.exists()
        assert fetch(again.endpoint_url, "uploads/u1/photo.png") == (original, "image/png")
        assert fetch(again.endpoint_url, "media/1/640.jpg") == (variant, "image/jpeg")
        head = client(again.endpoint_url).head_object(Bucket=BUCKET, Key="media/1/640.jpg")
        assert head["ContentLength"] == len(variant)
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
        assert [b["Name"] for b in client(again.endpoint_url).list_buckets()["Buckets"]] == [BUCKET]
    finally:
        again.stop()


def test_a_listing_longer_than_a_page_is_paginated(tmp_path: Path) -> None:
    """The seed lists the variants of thousands of posts: list-type=2 pages continue with s3rver's
    continuation token, which needs DES (OpenSSL 3 keeps it in its legacy provider)."""
    emulator = start(tmp_path / "s3")
    try:
        s3 = client(emulator.endpoint_url)
        s3.create_bucket(Bucket=BUCKET)
        keys = [f"media/{n}/w320.webp" for n in range(7)]
        for key in keys:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="media/",
                                                                  PaginationConfig={"PageSize": 3}))
    finally:
        emulator.stop()
    assert len(pages) == 3
    assert sorted(item["Key"] for page in pages for item in page["Contents"]) == sorted(keys)


def test_policy_checks_hold_on_files_and_refused_uploads_leave_nothing(tmp_path: Path) -> None:
    emulator = start(tmp_path / "s3")
    try:
        s3 = client(emulator.endpoint_url)
        s3.create_bucket(Bucket=BUCKET)
        post = s3.generate_presigned_post(BUCKET, "uploads/u1/a.png", Fields={"Content-Type": "image/png"},
                                          Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 1, 100]])
        too_large = post_form(post["url"], post["fields"], b"x" * 101)
        other_key = post_form(post["url"], {**post["fields"], "key": "uploads/u2/a.png"}, b"x")

        assert (too_large.status, too_large.error()[0]) == (400, "EntityTooLarge")
        assert (other_key.status, other_key.error()[0]) == (403, "AccessDenied")
        assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
        assert not list((tmp_path / "s3" / BUCKET).rglob("*._S3rver_object"))
    finally:
        emulator.stop()


def test_unknown_access_key_is_refused_for_plain_requests(tmp_path: Path) -> None:
    emulator = start(tmp_path / "s3")
    try:
        stranger = boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name="us-east-1",
                                aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")
        with pytest.raises(stranger.exceptions.ClientError) as refused:
            stranger.list_buckets()
        assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    finally:
        emulator.stop()


@pytest.mark.parametrize("path", [
    f"/{BUCKET}/a/../../../escaped.txt",  # a key climbing out of the bucket and the data directory
    "/../escaped.txt",  # a bucket name that is not one
    f"/{BUCKET}/part.txt?partNumber=1&uploadId=../../../escaped",
])
def test_names_never_reach_outside_the_data_directory(tmp_path: Path, path: str) -> None:
    emulator = start(tmp_path / "data" / "s3")
    try:
        client(emulator.endpoint_url).create_bucket(Bucket=BUCKET)

        reply = http_request("PUT", emulator.endpoint_url + path, b"outside?")

        assert 400 <= reply.status < 500, reply.body
        assert not [p for p in tmp_path.rglob("*escaped*")]
    finally:
        emulator.stop()


def test_s3rver_stops_when_its_stdin_closes(tmp_path: Path) -> None:
    backend = S3rverProcess(tmp_path / "s3", CREDENTIALS)
    backend.start()
    try:
        assert backend.process is not None and backend.process.stdin is not None
        backend.process.stdin.close()  # what the kernel does for a parent killed with -9
        assert backend.process.wait(timeout=10) == 0
    finally:
        backend.stop()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_kill_9_of_the_emulator_keeps_the_objects_and_takes_s3rver_with_it(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "s3", free_port()
    command = [sys.executable, "-m", "emulator.s3", "--port", str(port), "--data-dir", str(data_dir)]
    first = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = read_line(first, timeout=60)
        client(url).create_bucket(Bucket=BUCKET)
        data = os.urandom(50_000)
        upload(url, "uploads/u1/kept.jpg", data, "image/jpeg")
        (s3rver,) = [pid for pid in children(first.pid) if is_s3rver(pid)]

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        wait_for(lambda: not is_s3rver(s3rver), timeout=10, message="s3rver to exit after its parent's kill -9")
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        if first.stdout is not None:
            first.stdout.close()

    # The same port again: nothing of the killed run holds it.
    second = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = read_line(second, timeout=60)
        assert fetch(url, "uploads/u1/kept.jpg") == (data, "image/jpeg")
    finally:
        second.send_signal(signal.SIGINT)
        assert second.wait(timeout=30) == 0
        if second.stdout is not None:
            second.stdout.close()
