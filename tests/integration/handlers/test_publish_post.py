"""publish_post against real PostgreSQL: media-processed events made by process_upload from real
uploads in the S3 emulator, delivered (and redelivered) in AWS's Kafka event shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition

from handlers import process_upload, publish_post
from kafkagram.db import transaction
from kafkagram.store import posts
from kafkagram.store.users import get_user_by_id
from tests.support.images import photo_jpeg
from tests.support.invocations import invoke, kafka_record
from tests.support.kafka import CLUSTER_ARN, create_topic, produce, running
from tests.support.repo import REPO
from tests.support.store import events, make_user
from tests.support.uploads import BUCKET, Upload, outbox_events, upload
from tests.support.waiting import wait_for

HANDLERS_DIR = REPO / "handlers"

pytestmark = pytest.mark.usefixtures("sandbox")


def processed(db: Any, item: Upload) -> dict[str, Any]:
    """Run process_upload on the upload; its media-processed event from the outbox."""
    invoke(process_upload.handler, kafka_record(item.event))
    [event] = outbox_events(db, "media-processed", item.media_id)
    return event


def test_a_post_with_two_media_publishes_once_after_both_are_processed(db: Any, s3: Any) -> None:
    ada = make_user(db)
    first, second = (upload(db, s3, photo_jpeg((900, 600)), owner=ada) for _ in range(2))
    with transaction(db):
        post = posts.create_post(db, ada.id, "Two views #sea", [first.media_id, second.media_id])
    assert post.status == "pending"

    assert invoke(publish_post.handler, kafka_record(processed(db, first))) == {"batchItemFailures": []}
    assert posts.get_post(db, post.id, viewer_id=ada.id).status == "pending"
    assert events(db, "post-created", post.id) == []

    second_processed = processed(db, second)
    invoke(publish_post.handler, kafka_record(second_processed))
    assert posts.get_post(db, post.id).status == "published"
    # Redelivered: alone, then in one batch with the first media's event.
    invoke(publish_post.handler, kafka_record(second_processed))
    invoke(publish_post.handler, kafka_record(outbox_events(db, "media-processed", first.media_id)[0]),
           kafka_record(second_processed))
    [created] = events(db, "post-created", post.id)
    assert created["data"]["media_ids"] == [str(first.media_id), str(second.media_id)]
    assert get_user_by_id(db, ada.id).posts_count == 1


def test_a_refused_media_fails_the_waiting_post_once_with_its_reason(db: Any, s3: Any) -> None:
    ada = make_user(db)
    good, bad = upload(db, s3, photo_jpeg((900, 600)), owner=ada), upload(db, s3, b"not a picture", owner=ada)
    with transaction(db):
        post = posts.create_post(db, ada.id, "one of these is not a photo", [good.media_id, bad.media_id])
    invoke(process_upload.handler, kafka_record(bad.event))
    [refused] = outbox_events(db, "media-failed", bad.media_id)

    for _ in range(2):  # redelivered: no second effect
        assert invoke(publish_post.handler, kafka_record(refused)) == {"batchItemFailures": []}
    failed = posts.get_post(db, post.id, viewer_id=ada.id)
    assert (failed.status, failed.failure_reason) == ("failed", refused["data"]["reason"])
    # The good media finishing later publishes nothing, and nobody else can see the failed post.
    invoke(publish_post.handler, kafka_record(processed(db, good)))
    assert posts.get_post(db, post.id, viewer_id=ada.id).status == "failed"
    assert events(db, "post-created", post.id) == []
    with pytest.raises(posts.NotFound):
        posts.get_post(db, post.id, viewer_id=make_user(db).id)
    assert get_user_by_id(db, ada.id).posts_count == 0


def test_a_processed_avatar_updates_the_profile_once(db: Any, s3: Any) -> None:
    item = upload(db, s3, photo_jpeg((400, 400)), purpose="avatar")
    event = processed(db, item)
    for _ in range(2):
        invoke(publish_post.handler, kafka_record(event))
    assert get_user_by_id(db, item.owner.id).avatar_media_id == item.media_id
    [updated] = events(db, "profile-updated", item.owner.id)
    assert updated["data"]["changed"] == ["avatar_media_id"]
    assert updated["data"]["avatar_media_id"] == str(item.media_id)


def test_an_older_avatar_processed_late_does_not_replace_a_newer_one(db: Any, s3: Any) -> None:
    ada = make_user(db)
    older, newer = (upload(db, s3, photo_jpeg((300, 300)), owner=ada, purpose="avatar") for _ in range(2))
    older_event, newer_event = processed(db, older), processed(db, newer)
    invoke(publish_post.handler, kafka_record(newer_event))
    invoke(publish_post.handler, kafka_record(older_event, partition=1))
    assert get_user_by_id(db, ada.id).avatar_media_id == newer.media_id
    assert len(events(db, "profile-updated", ada.id)) == 1


def test_a_post_media_without_waiting_posts_changes_nothing(db: Any, s3: Any) -> None:
    item = upload(db, s3, photo_jpeg((300, 200)))
    assert invoke(publish_post.handler, kafka_record(processed(db, item))) == {"batchItemFailures": []}
    assert get_user_by_id(db, item.owner.id).posts_count == 0


def test_upload_to_published_post_through_the_event_source_mappings(
        db: Any, s3: Any, tmp_path: Path, kafka_bootstrap: str, kafka_session_timeout_ms: int, unique: str,
        database_url: str, s3_endpoint: str) -> None:
    """Both functions on one media topic with the FilterCriteria of template.yaml, run by the local
    runtime: each gets only its event type, and the post is published once."""
    topic = f"media-events-{unique}"
    create_topic(kafka_bootstrap, topic, 2)
    create_topic(kafka_bootstrap, f"{topic}-failed")
    environment = {"DATABASE_URL": database_url, "AWS_ENDPOINT_URL_S3": s3_endpoint, "MEDIA_BUCKET": BUCKET,
                   "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}

    def function(module: str, event_type: str) -> dict[str, Any]:
        return {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": str(HANDLERS_DIR), "Handler": f"{module}.handler", "Timeout": 60,
            "Environment": {"Variables": environment},
            "Events": {"Media": {"Type": "MSK", "Properties": {
                "Stream": CLUSTER_ARN, "Topics": [topic], "StartingPosition": "TRIM_HORIZON",
                "ConsumerGroupId": f"{unique}-{module}", "BatchSize": 10, "MaximumBatchingWindowInSeconds": 0,
                "MaximumRetryAttempts": 2, "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"value": {"type": [event_type]}})}]},
                "ProvisionedPollerConfig": {"MinimumPollers": 1, "MaximumPollers": 2},  # as template.yaml
                "DestinationConfig": {"OnFailure": {"Destination": f"kafka://{topic}-failed"}}}}}}}

    template = tmp_path / "template.yaml"
    template.write_text(yaml.safe_dump({
        "AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {"Function": {"Runtime": "python3.11", "MemorySize": 1024}},
        "Resources": {"ProcessUpload": function("process_upload", "media-uploaded"),
                      "PublishPost": function("publish_post", "media-processed")}}))

    ada = make_user(db)
    first, second = (upload(db, s3, photo_jpeg((800, 600)), owner=ada) for _ in range(2))
    with transaction(db):
        post = posts.create_post(db, ada.id, "Through Kafka", [first.media_id, second.media_id])

    def relay(type_name: str) -> None:  # what the outbox relay does, onto this test's topic
        values = [event for item in (first, second) for event in outbox_events(db, type_name, item.media_id)]
        for value in values:
            produce(kafka_bootstrap, topic, [value], key=str(value["data"]["media_id"]).encode())

    with running(template, kafka_bootstrap, kafka_session_timeout_ms):
        relay("media-uploaded")
        wait_for(lambda: all(outbox_events(db, "media-processed", item.media_id) for item in (first, second)),
                 timeout=60, message="both media processed")
        relay("media-processed")
        relay("media-processed")  # the relay published them twice (a crash before marking them sent)
        wait_for(lambda: events(db, "post-created", post.id), timeout=60, message="the post published")
        wait_for(lambda: _committed(kafka_bootstrap, f"{unique}-publish_post", topic) == 6, timeout=60,
                 message="all six records (two filtered out) handled and committed")
    assert len(events(db, "post-created", post.id)) == 1
    assert posts.get_post(db, post.id).status == "published"


def _committed(bootstrap: str, group: str, topic: str) -> int:
    """Records of the topic's two partitions the group has committed."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in range(2)], timeout=10)
        return sum(max(tp.offset, 0) for tp in found)
    finally:
        consumer.close()
