"""Media that should be gone is gone (handlers/media_cleanup.py against real PostgreSQL and the S3
emulator): a deleted post's media, and uploads never attached to a post or avatar after
UNATTACHED_MEDIA_TTL, rows and objects, at least once and idempotently."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from handlers import media_cleanup, process_upload
from kafkagram.db import transaction
from kafkagram.flows.media_cleanup import UNATTACHED_MEDIA_TTL
from kafkagram.store import NotFound, posts
from kafkagram.store.media import get_media
from tests.support.images import photo_jpeg
from tests.support.invocations import OK, invoke, kafka_record
from tests.support.store import make_user, one_event
from tests.support.uploads import BUCKET, Upload, outbox_events, upload, variant_keys


@pytest.fixture(autouse=True)
def _cleanup_clients(sandbox: pytest.MonkeyPatch) -> Iterator[None]:
    yield
    media_cleanup.clients.close()  # made for this test's environment


def processed(db: Any, item: Upload) -> dict[str, Any]:
    assert invoke(process_upload.handler, kafka_record(item.event)) == OK
    [event] = outbox_events(db, "media-processed", item.media_id)
    return event


def objects_of(s3: Any, item: Upload) -> list[str]:
    """The media's objects still in the bucket: its variants and its original."""
    original = s3.list_objects_v2(Bucket=BUCKET, Prefix=item.event["data"]["object_key"]).get("Contents", [])
    return variant_keys(s3, item.media_id) + [entry["Key"] for entry in original]


def gone(db: Any, media_id: int) -> bool:
    try:
        get_media(db, media_id)
    except NotFound:
        return True
    return False


def backdate(db: Any, media_id: int, age: timedelta) -> None:
    db.run("UPDATE media SET created_at = now() - CAST(:age AS interval) WHERE id = :id",
           age=f"{age.total_seconds()} seconds", id=media_id)


def test_deleting_a_post_deletes_its_media_and_their_objects_once(db: Any, s3: Any) -> None:
    ada = make_user(db)
    first, second, kept = (upload(db, s3, photo_jpeg((800, 600)), owner=ada) for _ in range(3))
    for item in (first, second, kept):
        processed(db, item)
    with transaction(db):
        post = posts.create_post(db, ada.id, "Going", [first.media_id, second.media_id])
        other = posts.create_post(db, ada.id, "Staying", [kept.media_id])
    assert len(objects_of(s3, first)) == 4  # three variants and the original
    with transaction(db):
        posts.delete_post(db, post.id, ada.id)
    deleted = kafka_record(one_event(db, "post-deleted", post.id))

    assert invoke(media_cleanup.handler, deleted) == OK
    for item in (first, second):
        assert objects_of(s3, item) == [] and gone(db, item.media_id)
    assert len(objects_of(s3, kept)) == 4 and posts.get_post(db, other.id).media[0].id == kept.media_id
    # Redelivered: nothing left to do, and no error.
    assert invoke(media_cleanup.handler, deleted) == OK


def test_a_post_deleted_while_its_media_is_processed_loses_it_after_processing(db: Any, s3: Any) -> None:
    ada = make_user(db)
    item = upload(db, s3, photo_jpeg((640, 480)), owner=ada)
    with transaction(db):
        post = posts.create_post(db, ada.id, "Soon gone", [item.media_id])
        posts.delete_post(db, post.id, ada.id)
    assert invoke(media_cleanup.handler, kafka_record(one_event(db, "post-deleted", post.id))) == OK
    assert get_media(db, item.media_id).status == "uploaded"  # processing still owns it: only detached
    event = processed(db, item)
    backdate(db, item.media_id, UNATTACHED_MEDIA_TTL + timedelta(minutes=1))
    assert invoke(media_cleanup.handler, kafka_record(event)) == OK  # media-processed: the sweep's occasion
    assert gone(db, item.media_id) and objects_of(s3, item) == []


def test_media_never_attached_expire_after_the_limit(db: Any, s3: Any) -> None:
    ada = make_user(db)
    old_unattached, old_in_post, old_avatar, fresh = (
        upload(db, s3, photo_jpeg((400, 300)), owner=ada, purpose=purpose)
        for purpose in ("post", "post", "avatar", "post"))
    events = [processed(db, item) for item in (old_unattached, old_in_post, old_avatar, fresh)]
    with transaction(db):
        posts.create_post(db, ada.id, "Attached", [old_in_post.media_id])
        db.run("UPDATE users SET avatar_media_id = :media WHERE id = :id", media=old_avatar.media_id, id=ada.id)
    for item in (old_unattached, old_in_post, old_avatar):
        backdate(db, item.media_id, UNATTACHED_MEDIA_TTL + timedelta(minutes=1))
    backdate(db, fresh.media_id, UNATTACHED_MEDIA_TTL - timedelta(minutes=5))
    before = {item.media_id: objects_of(s3, item) for item in (old_unattached, old_in_post, old_avatar, fresh)}
    assert all(len(keys) == 3 for keys in before.values())  # two variants (400 and 320 px) and the original

    assert invoke(media_cleanup.handler, kafka_record(events[-1])) == OK

    assert gone(db, old_unattached.media_id) and objects_of(s3, old_unattached) == []
    for item in (old_in_post, old_avatar, fresh):
        assert get_media(db, item.media_id).status == "ready" and objects_of(s3, item) == before[item.media_id]


def test_on_aws_the_deleted_variants_are_invalidated_in_cloudfront(db: Any, s3: Any, s3_endpoint: str,
                                                                   sandbox: pytest.MonkeyPatch) -> None:
    """moto (behind the S3 emulator) answers CloudFront's API too: the distribution the template gives
    the function gets one invalidation of exactly the deleted variants, named after the event."""
    import boto3

    from kafkagram import storage

    sandbox.setenv("AWS_ENDPOINT_URL_CLOUDFRONT", s3_endpoint)
    cloudfront = boto3.client("cloudfront", endpoint_url=s3_endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
    distribution = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": f"test-{id(db)}", "Comment": "media", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "media", "DomainName": f"{BUCKET}.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "media", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})["Distribution"]["Id"]
    sandbox.setenv(storage.DISTRIBUTION_ENV, distribution)
    storage._cloudfront.cache_clear()
    try:
        ada = make_user(db)
        item = upload(db, s3, photo_jpeg((700, 500)), owner=ada)
        processed(db, item)
        with transaction(db):
            post = posts.create_post(db, ada.id, "Cached", [item.media_id])
            posts.delete_post(db, post.id, ada.id)
        event = one_event(db, "post-deleted", post.id)
        assert invoke(media_cleanup.handler, kafka_record(event)) == OK
    finally:
        storage._cloudfront.cache_clear()
    [summary] = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]["Items"]
    batch = cloudfront.get_invalidation(DistributionId=distribution, Id=summary["Id"])["Invalidation"]
    assert batch["InvalidationBatch"]["CallerReference"] == event["id"]
    assert sorted(batch["InvalidationBatch"]["Paths"]["Items"]) == sorted(
        f"/media/{item.media_id}/{width}.jpg" for width in (700, 640, 320))
