"""process_upload against real PostgreSQL and the S3 emulator, invoked with AWS's Kafka event shape."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from handlers import process_upload
from kafkagram.config import get_settings
from kafkagram.events import validate
from kafkagram.media import DEFAULT_LIMITS
from kafkagram.store.media import get_media
from tests.support.images import bilevel_png, photo_jpeg
from tests.support.invocations import invoke, kafka_record
from tests.support.services import free_port
from tests.support.uploads import BUCKET, outbox_events, upload, variant_keys

pytestmark = pytest.mark.usefixtures("sandbox")

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect/></svg>'


def processed_count(db: Any, event_id: str) -> int:
    return int(db.run("SELECT count(*) FROM processed_events WHERE consumer = 'process-upload' "
                      "AND event_id = :id", id=event_id)[0][0])


def test_a_jpeg_upload_becomes_ready_with_three_variants(db: Any, s3: Any) -> None:
    item = upload(db, s3, photo_jpeg((1600, 1200)))
    assert invoke(process_upload.handler, kafka_record(item.event)) == {"batchItemFailures": []}

    stored = get_media(db, item.media_id)
    assert (stored.status, stored.width, stored.height) == ("ready", 1600, 1200)
    assert variant_keys(s3, item.media_id) == sorted(f"media/{item.media_id}/{w}.jpg" for w in (1080, 640, 320))
    [event] = outbox_events(db, "media-processed", item.media_id)
    validate(event)
    assert event["data"]["variants"] == stored.variants and event["data"]["blurhash"] == stored.blurhash
    for variant in stored.variants:
        obj = s3.get_object(Bucket=BUCKET, Key=variant["object_key"])
        assert obj["ContentType"] == "image/jpeg" and "immutable" in obj["CacheControl"]
        body = obj["Body"].read()
        assert len(body) == variant["size_bytes"]
        with Image.open(io.BytesIO(body)) as image:
            assert image.size == (variant["width"], variant["height"]) and not image.getexif()
    assert [v["width"] for v in stored.variants] == [1080, 640, 320]


@pytest.mark.parametrize(("data", "content_type", "reason"), [
    (b"Dear diary, this is not a picture.\n" * 20, "image/jpeg", "not-an-image"),
    (photo_jpeg((800, 600))[:6000], "image/jpeg", "truncated"),
    (SVG, "image/svg+xml", "not-an-image"),
    (bilevel_png(10_000, 10_000), "image/png", "too-many-pixels"),
], ids=["text-renamed-jpg", "truncated-jpeg", "svg", "decompression-bomb"])
def test_a_bad_upload_is_refused_with_a_reason_and_nothing_written(
        db: Any, s3: Any, data: bytes, content_type: str, reason: str) -> None:
    item = upload(db, s3, data, content_type)
    assert invoke(process_upload.handler, kafka_record(item.event)) == {"batchItemFailures": []}

    stored = get_media(db, item.media_id)
    assert (stored.status, stored.failure_reason) == ("failed", reason)
    assert stored.failure_message and stored.variants in ([], None)
    [event] = outbox_events(db, "media-failed", item.media_id)
    validate(event)
    assert event["data"]["reason"] == reason
    assert outbox_events(db, "media-processed", item.media_id) == []
    assert variant_keys(s3, item.media_id) == []


def test_an_oversized_original_is_refused_without_being_read(db: Any, s3: Any) -> None:
    item = upload(db, s3, photo_jpeg((64, 64)) + bytes(DEFAULT_LIMITS.max_bytes))
    invoke(process_upload.handler, kafka_record(item.event))
    stored = get_media(db, item.media_id)
    assert (stored.status, stored.failure_reason) == ("failed", "too-large")
    assert variant_keys(s3, item.media_id) == []


def test_a_missing_original_is_refused(db: Any, s3: Any) -> None:
    item = upload(db, s3, photo_jpeg((400, 300)))
    s3.delete_object(Bucket=BUCKET, Key=item.event["data"]["object_key"])  # expired by the lifecycle rule
    invoke(process_upload.handler, kafka_record(item.event))
    assert get_media(db, item.media_id).failure_reason == "missing-upload"


def test_the_same_event_twice_has_one_effect(db: Any, s3: Any) -> None:
    item = upload(db, s3, photo_jpeg((1200, 900)))
    invoke(process_upload.handler, kafka_record(item.event))
    first = {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in variant_keys(s3, item.media_id)}
    # Redelivered alone, then twice within one batch (a retry from a lower offset).
    invoke(process_upload.handler, kafka_record(item.event))
    invoke(process_upload.handler, kafka_record(item.event), kafka_record(item.event))

    assert len(outbox_events(db, "media-processed", item.media_id)) == 1
    assert processed_count(db, item.event["id"]) == 1
    again = {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in variant_keys(s3, item.media_id)}
    assert again == first and len(first) == 3


def test_a_refused_upload_redelivered_is_refused_once(db: Any, s3: Any) -> None:
    item = upload(db, s3, SVG, "image/svg+xml")
    for _ in range(2):
        invoke(process_upload.handler, kafka_record(item.event))
    assert len(outbox_events(db, "media-failed", item.media_id)) == 1


def test_s3_down_fails_the_record_and_the_retry_succeeds(db: Any, s3: Any, sandbox: pytest.MonkeyPatch) -> None:
    item = upload(db, s3, photo_jpeg((640, 480)))
    healthy_endpoint = s3.meta.endpoint_url
    sandbox.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    _reload_settings()
    record = kafka_record(item.event)
    assert invoke(process_upload.handler, record) == {"batchItemFailures": [
        {"itemIdentifier": {"partition": f"{record.topic}-{record.partition}", "offset": record.offset}}]}
    assert get_media(db, item.media_id).status == "uploaded"
    assert processed_count(db, item.event["id"]) == 0 and outbox_events(db, "media-processed", item.media_id) == []

    sandbox.setenv("AWS_ENDPOINT_URL_S3", healthy_endpoint)
    _reload_settings()
    invoke(process_upload.handler, kafka_record(item.event))
    assert get_media(db, item.media_id).status == "ready"


def test_a_poison_record_goes_to_the_failure_topic_and_its_partition_goes_on(db: Any, s3: Any) -> None:
    after, elsewhere = upload(db, s3, photo_jpeg((500, 500))), upload(db, s3, photo_jpeg((400, 400)))
    poison = kafka_record(b"{not json}")
    response = invoke(process_upload.handler, poison, kafka_record(after.event),
                      kafka_record(elsewhere.event, partition=1))
    # Retrying it would change nothing: it is diverted (kafkagram.poison) and nothing is reported failed.
    assert response == {"batchItemFailures": []}
    [[key, failure]] = db.run("SELECT key, payload FROM outbox WHERE topic = 'media-events-failed' "
                              "AND payload->'KafkaBatchInfo'->'recordInfo'->>'offset' = :offset",
                              offset=str(poison.offset))
    assert key == "poison" and failure["reason"]["code"] == "not-an-event"
    assert get_media(db, after.media_id).status == "ready"
    assert get_media(db, elsewhere.media_id).status == "ready"


def test_an_event_naming_someone_elses_object_reads_and_writes_only_the_medias_own(db: Any, s3: Any) -> None:
    victim = upload(db, s3, photo_jpeg((900, 700)))
    mine = upload(db, s3, photo_jpeg((500, 400)))
    forged = {**mine.event, "data": {**mine.event["data"], "object_key": victim.event["data"]["object_key"]}}
    victims_original = s3.get_object(Bucket=BUCKET, Key=victim.event["data"]["object_key"])["Body"].read()

    assert invoke(process_upload.handler, kafka_record(forged)) == {"batchItemFailures": []}

    stored = get_media(db, mine.media_id)  # made from its own upload (500 x 400), not the victim's
    assert (stored.status, stored.width, stored.height) == ("ready", 500, 400)
    assert get_media(db, victim.media_id).status == "uploaded" and variant_keys(s3, victim.media_id) == []
    assert s3.get_object(Bucket=BUCKET, Key=victim.event["data"]["object_key"])["Body"].read() == victims_original


def test_an_upload_whose_media_was_deleted_is_skipped(db: Any, s3: Any) -> None:
    item = upload(db, s3, photo_jpeg((300, 300)))
    db.run("DELETE FROM media WHERE id = :id", id=item.media_id)  # e.g. its owner's account deleted
    assert invoke(process_upload.handler, kafka_record(item.event)) == {"batchItemFailures": []}
    assert variant_keys(s3, item.media_id) == []


def test_other_event_types_are_skipped(db: Any, s3: Any) -> None:
    item = upload(db, s3, photo_jpeg((320, 240)))
    invoke(process_upload.handler, kafka_record(item.event))
    [processed] = outbox_events(db, "media-processed", item.media_id)
    assert invoke(process_upload.handler, kafka_record(processed)) == {"batchItemFailures": []}


def _reload_settings() -> None:
    get_settings.cache_clear()  # the sandbox reads its environment once, as settings are cached
