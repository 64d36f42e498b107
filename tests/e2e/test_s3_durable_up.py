"""`kafkagram up` keeps the media bucket on disk (s3rver under the run directory): an upload and a variant
written before the first run is killed with -9 are served by the next run, and the killed run's s3rver
does not outlive it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import IO, Any

import boto3
import pytest
from botocore.config import Config

from emulator.s3.files import is_s3rver
from kafkagram.config import get_settings
from kafkagram_local.services import LOCAL_AWS_ACCESS_KEY_ID, LOCAL_AWS_SECRET_ACCESS_KEY
from tests.support.repo import REPO
from tests.support.s3_forms import post_form
from tests.support.up import read_log, up_environment
from tests.support.waiting import wait_for


def start_up(env: dict[str, str], log: IO[str]) -> subprocess.Popen[str]:
    up = subprocess.Popen([sys.executable, "-m", "kafkagram_local.cli", "up"], cwd=REPO, env=env,
                          stdout=log, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: "ready in" in read_log(log) or up.poll() is not None, timeout=120, message="`up` ready")
    assert "ready in" in read_log(log), read_log(log)
    return up


def s3_client(env: dict[str, str], endpoint: str) -> Any:
    # The pair `up` gives its S3 (the environment's, else the local-only default).
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", LOCAL_AWS_ACCESS_KEY_ID),
                        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", LOCAL_AWS_SECRET_ACCESS_KEY),
                        config=Config(signature_version="s3v4"))


def served(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), response.headers["Content-Type"]


@pytest.mark.slow
def test_uploads_and_variants_survive_kill_9_of_up(fresh_database: str, tmp_path: Path) -> None:
    ports, env = up_environment(fresh_database, tmp_path)
    endpoint, bucket = f"http://127.0.0.1:{ports['s3']}", get_settings().media_bucket
    run_dir = Path(env["KAFKAGRAM_RUN_DIR"])
    original, variant = os.urandom(40_000), os.urandom(8_000)
    log = (tmp_path / "up-1.log").open("w+")

    first = start_up(env, log)
    try:
        assert f"data in {run_dir / 's3'}" in read_log(log)
        s3 = s3_client(env, endpoint)
        post = s3.generate_presigned_post(bucket, "uploads/1/photo.jpg", Fields={"Content-Type": "image/jpeg"},
                                          Conditions=[{"Content-Type": "image/jpeg"},
                                                      ["content-length-range", 1, 1_000_000]])
        reply = post_form(post["url"], post["fields"], original, file_type="image/jpeg")
        assert reply.status == 204, reply.body
        s3.put_object(Bucket=bucket, Key="media/1/640.jpg", Body=variant, ContentType="image/jpeg")
        s3rver = int((run_dir / "s3rver.pid").read_text())
        assert is_s3rver(s3rver)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    wait_for(lambda: not is_s3rver(s3rver), timeout=10, message="the killed run's s3rver to exit")

    log = (tmp_path / "up-2.log").open("w+")
    second = start_up(env, log)
    try:
        assert served(f"{endpoint}/{bucket}/media/1/640.jpg") == (variant, "image/jpeg")
        assert served(f"{endpoint}/{bucket}/uploads/1/photo.jpg") == (original, "image/jpeg")
        s3rver = int((run_dir / "s3rver.pid").read_text())
    finally:
        second.send_signal(signal.SIGINT)
        code = second.wait(timeout=60)
    assert code == 0, read_log(log)
    assert not is_s3rver(s3rver)
    assert not (run_dir / "s3rver.pid").exists()
