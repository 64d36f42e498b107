"""The local runtime and S3 as a real browser sees them (headless Debian chromium driven by Playwright).

A page served by the runtime's HTTP gateway (`browser_app/static`) opens a WebSocket to the runtime's
WebSocket API and shows what a backend pushes with boto3's `post_to_connection`; it uploads files
straight to the S3 emulator with presigned POSTs (FormData + fetch, cross-origin), so this checks the
parts that only a browser enforces: the WebSocket handshake from a page, CORS on S3's answers (the
page can read S3's XML errors and the exposed ETag) and the multipart form a browser builds.
"""

from __future__ import annotations

import json
import os
import re
import struct
import uuid
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import boto3
import pytest
import redis
from botocore.config import Config
from playwright.sync_api import BrowserContext, FilePayload, Page, expect, sync_playwright

from emulator.runtime import Runtime, RuntimeOptions
from emulator.s3.server import S3Emulator
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, require_chromium
from tests.support.repo import APPS
from tests.support.services import REDIS_TEST_URL, free_port
from tests.support.waiting import wait_for

APP_DIR = APPS / "browser_app"
STAGE = "browser"
REGION = "us-east-1"
ACCESS_KEY, SECRET_KEY = "test", "test"
BUCKET = "kafkagram-browser"
KEY_PREFIX = "uploads/browser/"
MAX_UPLOAD_BYTES = 4096
WAIT_S = 30.0  # generous: the first $connect starts a cold sandbox on a busy 2-core machine
WAIT_MS = WAIT_S * 1000


@dataclass
class Stack:
    runtime: Runtime
    s3_url: str
    s3: Any  # boto3 S3 client (SigV4, as presigned POSTs for browsers are made)
    redis: redis.Redis
    run_key: str

    @property
    def origin(self) -> str:
        return self.runtime.urls["http"]

    def page_url(self, ws_url: str | None = None) -> str:
        return f"{self.origin}/" + (f"?ws={quote(ws_url, safe='')}" if ws_url else "")

    def ws_url(self, client: str) -> str:
        return f"{self.runtime.urls['websocket']}/{STAGE}?client={client}"

    def management(self) -> Any:
        """The @connections API as a backend calls it: on the WebSocket server, under the stage."""
        endpoint = f"http://127.0.0.1:{self.runtime.options.websocket_port}/{STAGE}"
        return boto3.client(
            "apigatewaymanagementapi", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="local",
            aws_secret_access_key="local", config=Config(retries={"max_attempts": 1}, read_timeout=WAIT_S))

    def key(self, suffix: str) -> str:
        return f"{self.run_key}:{suffix}"

    def connection_of(self, client: str) -> str:
        """The connectionId `$connect` recorded for the page that passed `client` ("" until then)."""
        value = self.redis.hget(self.key("connections"), client)
        return value.decode() if isinstance(value, bytes) else ""


@dataclass
class UploadResult:
    status: str
    etag: str
    text: str

    def error(self) -> tuple[str | None, str | None]:
        root = ET.fromstring(self.text)
        return root.findtext("Code"), root.findtext("Message")


def _s3_client(url: str) -> Any:
    return boto3.client("s3", endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, config=Config(signature_version="s3v4"))


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    run_key = f"browser-test:{uuid.uuid4().hex[:10]}"
    store = redis.Redis.from_url(REDIS_TEST_URL)
    s3_emulator = S3Emulator(port=0, credentials={ACCESS_KEY: SECRET_KEY})
    runtime = Runtime(RuntimeOptions(
        template_path=APP_DIR / "template.yaml", static_dir=APP_DIR / "static",
        parameter_overrides={"RedisUrl": REDIS_TEST_URL, "RunKey": run_key},
        http_port=free_port(), websocket_port=free_port(), status_port=free_port(), api_workers=2))
    try:
        s3_url = s3_emulator.start()
        runtime.start()
        s3 = _s3_client(s3_url)
        s3.create_bucket(Bucket=BUCKET)
        # Only the page's origin may read S3's answers, as a production bucket would be set up.
        s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": [runtime.urls["http"]], "AllowedMethods": ["GET", "POST"],
            "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600,
        }]})
        yield Stack(runtime, s3_url, s3, store, run_key)
    finally:
        runtime.stop()
        s3_emulator.stop()
        store.delete(f"{run_key}:connections", f"{run_key}:disconnected")
        store.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    require_chromium()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 900, "height": 760})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def png_image(width: int = 8, height: int = 8) -> bytes:
    """A small valid PNG (RGB gradient), so the upload is a real image file."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"".join(bytes((x * 32, y * 32, 128)) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def presign(stack: Stack, key: str) -> dict[str, Any]:
    """A presigned POST as the photo API hands it out: the browser supplies Content-Type itself."""
    post: dict[str, Any] = stack.s3.generate_presigned_post(
        BUCKET, key, ExpiresIn=300,
        Conditions=[["content-length-range", 1, MAX_UPLOAD_BYTES], ["starts-with", "$Content-Type", "image/"],
                    ["starts-with", "$key", KEY_PREFIX]])
    return post


def upload_from_page(page: Page, stack: Stack, key: str, name: str, mime_type: str, data: bytes) -> UploadResult:
    """Pick the file in the page's file input and click Upload, as a user would."""
    page.goto(stack.page_url())
    page.fill("#presigned", json.dumps(presign(stack, key)))
    page.set_input_files("#file", files=[FilePayload(name=name, mimeType=mime_type, buffer=data)])
    page.click("#upload-button")
    status = page.locator("#upload-status")
    expect(status).to_have_attribute("data-outcome", re.compile("ok|refused"), timeout=WAIT_MS)
    return UploadResult(status.inner_text(), page.locator("#upload-etag").inner_text(),
                        page.locator("#upload-response").inner_text())


def object_exists(stack: Stack, key: str) -> bool:
    return int(stack.s3.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount", 0)) > 0


def unique_key(name: str) -> str:
    return f"{KEY_PREFIX}{uuid.uuid4().hex}/{name}"


# ---------------------------------------------------------------------------------------------------
# WebSocket


def test_page_receives_what_post_to_connection_pushes(stack: Stack, page: Page) -> None:
    client = uuid.uuid4().hex
    page.goto(stack.page_url(stack.ws_url(client)))
    expect(page.locator("#ws-state")).to_have_text("open", timeout=WAIT_MS)

    # $connect saw this page's connection; $default answered the page on that same connection.
    connection_id = wait_for(lambda: stack.connection_of(client), timeout=WAIT_S,
                             message="the $connect record of the page's connection")
    expect(page.locator("#connection-id")).to_have_text(connection_id, timeout=WAIT_MS)
    management = stack.management()
    assert "Chrome" in management.get_connection(ConnectionId=connection_id)["Identity"]["UserAgent"]

    management.post_to_connection(ConnectionId=connection_id, Data=json.dumps({"hello": "browser"}).encode())
    management.post_to_connection(ConnectionId=connection_id, Data=b"\xff\x00binary")  # not UTF-8: binary frame

    expect(page.locator("#messages li")).to_have_text(
        ['{"hello": "browser"}', "binary: ff 00 62 69 6e 61 72 79"], timeout=WAIT_MS)
    page.screenshot(path=SCREENSHOTS / "browser-websocket.png", full_page=True)

    page.close()  # the browser closes the socket: $disconnect fires and the connection is gone
    wait_for(lambda: stack.redis.sismember(stack.key("disconnected"), connection_id), timeout=WAIT_S,
             message="the $disconnect of the page's connection")
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId=connection_id, Data=b"too late")


# ---------------------------------------------------------------------------------------------------
# Presigned POST uploads


def test_upload_within_the_policy_is_stored(stack: Stack, page: Page) -> None:
    key = unique_key("photo.png")
    image = png_image()

    result = upload_from_page(page, stack, key, "photo.png", "image/png", image)
    page.screenshot(path=SCREENSHOTS / "browser-upload-accepted.png", full_page=True)

    assert result.status == "204", result.text
    head = stack.s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == len(image)
    assert result.etag == head["ETag"]  # readable by the page only because the bucket's CORS exposes it
    assert stack.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == image


def test_oversize_upload_is_refused_with_entity_too_large(stack: Stack, page: Page) -> None:
    key = unique_key("huge.png")
    data = png_image() + os.urandom(MAX_UPLOAD_BYTES)

    result = upload_from_page(page, stack, key, "huge.png", "image/png", data)
    page.screenshot(path=SCREENSHOTS / "browser-upload-too-large.png", full_page=True)

    assert result.status == "400", result.text
    assert result.error()[0] == "EntityTooLarge"
    expect(page.locator("#upload-response")).to_contain_text("<Code>EntityTooLarge</Code>")
    assert ET.fromstring(result.text).findtext("MaxSizeAllowed") == str(MAX_UPLOAD_BYTES)
    assert not object_exists(stack, key)


def test_wrong_content_type_is_refused_with_access_denied(stack: Stack, page: Page) -> None:
    key = unique_key("page.html")

    result = upload_from_page(page, stack, key, "page.html", "text/html", b"<script>alert(1)</script>")
    page.screenshot(path=SCREENSHOTS / "browser-upload-wrong-type.png", full_page=True)

    assert result.status == "403", result.text
    assert result.error() == (
        "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]',
    )
    expect(page.locator("#upload-response")).to_contain_text("<Code>AccessDenied</Code>")
    assert not object_exists(stack, key)
