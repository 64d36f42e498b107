"""The handlers' world for tests: a migrated database of their own, the S3 emulator with the media
bucket, the environment a sandbox gets from template.yaml, and invocation through the emulator's own
Kafka event builder, so handlers see exactly what the event source mapping sends."""

from __future__ import annotations

import io
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pg8000.native
import pytest
from PIL import Image

from emulator.context import LambdaContext
from emulator.kafka.records import KafkaRecord, invocation_event
from handlers import process_upload, publish_post
from kafkagram.config import get_settings
from kafkagram.db import connect
from kafkagram.events import Event, key_for, topic_for
from kafkagram.store import media
from kafkagram.store.models import User
from tests.app.test_store_support import make_user, transaction
from tests.conftest import create_test_database, local_s3, s3_client

# Its own database, so these tests never share rows with tests/app's.
HANDLERS_DATABASE = "kafkagram_handlers_test"
BUCKET = "kafkagram-media"
CREDENTIALS = {"test": "test"}
EVENT_SOURCE_ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/kafkagram-local/00000000-0000-0000-0000-000000000000-1"
_offsets = itertools.count()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture(scope="session")
def database_url() -> str:
    return create_test_database(HANDLERS_DATABASE)


@pytest.fixture
def db(database_url: str) -> Iterator[pg8000.native.Connection]:
    connection = connect(database_url)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with local_s3(BUCKET) as endpoint_url:
        yield endpoint_url


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    return s3_client(s3_endpoint)


@pytest.fixture
def sandbox(database_url: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The environment template.yaml gives a function; handlers read it through get_settings()."""
    for name, value in {"DATABASE_URL": database_url, "AWS_ENDPOINT_URL_S3": s3_endpoint, "MEDIA_BUCKET": BUCKET,
                        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "kafkagram"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
    for handler in (process_upload, publish_post):  # their connections were made for this environment
        handler.clients.close()


def lambda_context(function_name: str) -> LambdaContext:
    return LambdaContext(
        function_name=function_name, function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}",
        memory_limit_in_mb="1769", aws_request_id=str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{function_name}", log_stream_name="test",
        deadline_ms=int(time.time() * 1000) + 60_000)


def kafka_record(event: Event | dict[str, Any] | bytes, partition: int = 0) -> KafkaRecord:
    """One record of the event's topic as the relay publishes it (key = the aggregate id)."""
    if isinstance(event, bytes):
        topic, key, value = "media-events", b"poison", event
    else:
        parsed = event if isinstance(event, Event) else Event.model_validate(event)
        topic, key, value = topic_for(parsed.type), key_for(parsed).encode(), parsed.to_json().encode()
    return KafkaRecord(topic, partition, next(_offsets), int(time.time() * 1000), False, key, value,
                       [("source", b"tests")])


def invoke(handler: Handler, *records: KafkaRecord) -> dict[str, Any]:
    """Call the handler as the event source mapping does: one partition's records, AWS's event shape."""
    event = invocation_event(list(records), event_source="aws:kafka", event_source_arn=EVENT_SOURCE_ARN,
                             bootstrap_servers="b-1.kafkagram.local:9098,b-2.kafkagram.local:9098")
    return handler(event, lambda_context(handler.__module__))


@dataclass(frozen=True)
class Upload:
    media_id: int
    owner: User
    event: dict[str, Any]  # the media-uploaded event from the outbox


def outbox_events(db: Any, type_name: str, media_id: int) -> list[dict[str, Any]]:
    rows = db.run("SELECT payload FROM outbox WHERE payload->>'type' = :type "
                  "AND payload->'data'->>'media_id' = :id ORDER BY id", type=type_name, id=str(media_id))
    return [row[0] for row in rows]


def upload(db: Any, s3: Any, data: bytes, content_type: str = "image/jpeg", *, owner: User | None = None,
           purpose: str = "post") -> Upload:
    """What POST /media and /complete do: a media row, the object in S3, then media-uploaded."""
    owner = owner or make_user(db)
    with transaction(db):
        item = media.create_media(db, owner.id, purpose, content_type, len(data))
    s3.put_object(Bucket=BUCKET, Key=item.object_key, Body=data, ContentType=content_type)
    with transaction(db):
        media.mark_uploaded(db, item.id, owner.id, BUCKET, content_type, len(data))
    [event] = outbox_events(db, "media-uploaded", item.id)
    return Upload(item.id, owner, event)


def variant_keys(s3: Any, media_id: int) -> list[str]:
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"media/{media_id}/")
    return sorted(item["Key"] for item in listing.get("Contents", []))


def photo_jpeg(size: tuple[int, int] = (1600, 1200)) -> bytes:
    """Gradients plus noise, like a photo, as a JPEG."""
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (horizontal, vertical, Image.effect_noise(size, 40)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()
