"""Uploads through the API against the real S3 emulator (which enforces presigned POST policies):
presign, a real multipart upload, complete (the stored object checked, media-uploaded emitted)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PIL import Image

from kafkagram.config import get_settings
from tests.support.api import Account, Client, register
from tests.support.uploads import BUCKET, s3_environment


@pytest.fixture
def uploads(direct: Client, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """The in-process API function with the environment a sandbox gets locally (S3 emulator endpoint)."""
    import deps

    for name, value in s3_environment(s3_endpoint, BUCKET).items():
        monkeypatch.setenv(name, value)
    deps.reset()
    yield direct
    monkeypatch.undo()
    deps.reset()
    get_settings.cache_clear()


def jpeg_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def presign(client: Client, account: Account, *, content_type: str = "image/jpeg", size: int = 1000,
            purpose: str = "post") -> Any:
    reply = client.request("POST", "/api/media", token=account.access_token,
                           json_body={"purpose": purpose, "content_type": content_type, "size": size})
    assert reply.status == 201, reply.body
    return reply.json()


def upload(form: Any, data: bytes, content_type: str | None = None) -> requests.Response:
    """The browser's multipart/form-data POST of the presigned form (fields first, then the file)."""
    fields = dict(form["upload"]["fields"])
    if content_type is not None:
        fields["Content-Type"] = content_type
    return requests.post(form["upload"]["url"], data=fields, files={"file": ("photo.jpg", data)}, timeout=30)


def complete(client: Client, account: Account, media_id: str) -> Any:
    return client.request("POST", f"/api/media/{media_id}/complete", token=account.access_token)


def _uploaded_events(db: Any, media_id: str) -> list[dict[str, Any]]:
    rows = db.run("SELECT payload FROM outbox WHERE payload->>'type' = 'media-uploaded' "
                  "AND payload->'data'->>'media_id' = :id", id=media_id)
    return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]


def test_presign_upload_complete_emits_media_uploaded_once(uploads, s3, db):
    alice = register(uploads)
    data = jpeg_bytes()
    form = presign(uploads, alice, size=len(data))
    assert form["media"]["status"] == "pending" and form["max_bytes"] > len(data)
    assert 0 < form["expires_in"] <= 3600
    key = form["upload"]["fields"]["key"]
    assert key == f"uploads/{alice.id}/{form['media']['id']}"  # the caller's prefix, the media's own key
    assert form["upload"]["fields"]["Content-Type"] == "image/jpeg"

    sent = upload(form, data)
    assert sent.status_code in (200, 201, 204), sent.text
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == len(data)

    for _ in range(2):  # completing twice is a no-op the second time
        reply = complete(uploads, alice, form["media"]["id"])
        assert reply.status == 200, reply.body
        assert reply.json()["status"] == "uploaded" and reply.json()["size_bytes"] == len(data)
    [event] = _uploaded_events(db, form["media"]["id"])
    assert event["data"]["object_key"] == key and event["data"]["bucket"] == BUCKET
    assert event["data"]["size_bytes"] == len(data) and event["data"]["content_type"] == "image/jpeg"
    assert event["actor_id"] == alice.id


def test_complete_without_an_upload_is_refused(uploads, db):
    alice = register(uploads)
    form = presign(uploads, alice)
    reply = complete(uploads, alice, form["media"]["id"])
    assert reply.status == 400 and reply.error == "upload-missing"
    assert db.run("SELECT status FROM media WHERE id = :id", id=int(form["media"]["id"])) == [["pending"]]
    assert _uploaded_events(db, form["media"]["id"]) == []
    assert complete(uploads, alice, "999999999999").status == 404


def test_another_users_media_cannot_be_completed(uploads, db):
    alice, mallory = register(uploads), register(uploads)
    data = jpeg_bytes()
    form = presign(uploads, alice, size=len(data))
    assert upload(form, data).status_code in (200, 201, 204)
    reply = complete(uploads, mallory, form["media"]["id"])
    assert reply.status == 403 and reply.error == "not-your-media"
    assert _uploaded_events(db, form["media"]["id"]) == []


@pytest.mark.parametrize("body,field", [
    ({"purpose": "post", "content_type": "image/svg+xml", "size": 100}, "content_type"),
    ({"purpose": "post", "content_type": "text/plain", "size": 100}, "content_type"),
    ({"purpose": "post", "content_type": "image/jpeg", "size": 21 * 1024 * 1024}, "size"),
    ({"purpose": "post", "content_type": "image/jpeg", "size": 0}, "size"),
    ({"purpose": "story", "content_type": "image/jpeg", "size": 100}, "purpose"),
])
def test_wrong_type_or_size_is_refused_before_any_form(uploads, body, field):
    alice = register(uploads)
    reply = uploads.request("POST", "/api/media", token=alice.access_token, json_body=body)
    assert reply.status == 400 and reply.error == "invalid-request"
    assert field in reply.json()["message"]


def test_the_form_refuses_an_oversize_file_or_another_type(uploads, s3):
    alice = register(uploads)
    form = presign(uploads, alice)
    too_big = b"\xff\xd8" + b"0" * (form["max_bytes"] + 1)
    assert upload(form, too_big).status_code == 400  # content-length-range
    assert upload(form, jpeg_bytes(), content_type="text/html").status_code == 403  # Content-Type pinned
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=BUCKET, Key=form["upload"]["fields"]["key"])


def test_complete_checks_the_stored_object_not_the_client(uploads, s3, db):
    # An object put at the key by other means (not through the form's policy): complete trusts only S3.
    alice = register(uploads)
    form = presign(uploads, alice)
    key = form["upload"]["fields"]["key"]
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"<svg/>", ContentType="image/svg+xml")
    reply = complete(uploads, alice, form["media"]["id"])
    assert reply.status == 400 and reply.error == "invalid-content-type"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"", ContentType="image/jpeg")
    reply = complete(uploads, alice, form["media"]["id"])
    assert reply.status == 400 and reply.error == "invalid-size"
    assert _uploaded_events(db, form["media"]["id"]) == []


def test_the_owner_reads_an_uploads_state_and_nobody_else_learns_of_it(uploads, db):
    alice, mallory = register(uploads), register(uploads)
    form = presign(uploads, alice)
    media_id = form["media"]["id"]
    mine = uploads.request("GET", f"/api/media/{media_id}", token=alice.access_token)
    assert mine.status == 200 and mine.json()["status"] == "pending" and mine.json()["failure_reason"] is None
    db.run("UPDATE media SET status = 'failed', failure_reason = 'not-an-image', "
           "failure_message = 'the file is not an image' WHERE id = :id", id=int(media_id))
    failed = uploads.request("GET", f"/api/media/{media_id}", token=alice.access_token).json()
    assert (failed["status"], failed["failure_reason"]) == ("failed", "not-an-image")
    for token, path in ((mallory.access_token, media_id), (alice.access_token, "999999999999")):
        reply = uploads.request("GET", f"/api/media/{path}", token=token)
        assert reply.status == 404 and reply.error == "media-not-found"


def test_media_routes_need_a_token(uploads):
    assert uploads.request("POST", "/api/media", json_body={}).status == 401
    assert uploads.request("POST", "/api/media/1/complete").status == 401
    assert uploads.request("GET", "/api/media/1").status == 401
