"""Poison or transient (`kafkagram.poison`): a record that can never succeed is classified with its reason,
anything else is left to the event source mapping's retries; the failure record a function writes has
the shape of the one Lambda (and the local runtime) writes, plus `reason`."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pg8000.native
import pytest
import redis
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord

from emulator.kafka.records import KafkaRecord, failure_record, invocation_event
from kafkagram import poison
from kafkagram.batches import decode_record
from kafkagram.events import CATALOG, UnexpectedEvent, new_event, read_data, reading
from kafkagram.events.envelope import Event
from kafkagram.storage import ObjectMissing
from tests.support.invocations import EVENT_SOURCE_ARN, lambda_context

BOOTSTRAP = "b-1.kafkagram.local:9098"


def event_record(value: str | None, key: str | None = "MTAwMQ==") -> KafkaEventRecord:
    raw: dict[str, Any] = {"topic": "user-events", "partition": 2, "offset": 41, "timestamp": 1764979200000,
                           "timestampType": "CREATE_TIME", "headers": []}
    if key is not None:
        raw["key"] = key
    if value is not None:
        raw["value"] = value
    return KafkaEventRecord(raw)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def reason_of(value: str) -> poison.Reason | None:
    """What the batch runner concludes about a record before any handler runs."""
    try:
        return poison.unknown_type(decode_record(event_record(value)))
    except UnexpectedEvent as error:
        return poison.not_an_event(error)


FOLLOWED = new_event("user-followed", CATALOG["user-followed"].example, 1001)


@pytest.mark.parametrize(("value", "fragment"), [
    ("%%%not base64%%%", ""),
    (b64(b"\xff\xfe not UTF-8"), "utf-8"),
    (b64(b"{not json"), "json"),
    (b64(b'["a", "list"]'), ""),
    (b64(json.dumps({"type": "user-followed"}).encode()), "version"),  # an envelope lacking its fields
], ids=["bad-base64", "not-utf8", "not-json", "not-an-object", "not-an-envelope"])
def test_a_record_that_is_not_an_event_is_poison(value: str, fragment: str) -> None:
    reason = reason_of(value)
    assert reason is not None and reason.code == poison.NOT_AN_EVENT
    assert fragment.lower() in reason.message.lower() and "user-events-2@41" in reason.message


def test_an_unknown_event_type_is_poison_and_a_known_one_is_not() -> None:
    unknown = Event(type="user-teleported", version=1, actor_id="1001", data={"user_id": "1001"})
    reason = reason_of(b64(unknown.to_json().encode()))
    assert reason is not None and reason.code == poison.UNKNOWN_EVENT_TYPE and "user-teleported" in reason.message
    assert reason_of(b64(FOLLOWED.to_json().encode())) is None


def test_data_the_consumer_cannot_read_is_poison_with_its_schema_errors() -> None:
    broken = Event(**{**FOLLOWED.model_dump(), "data": {"follower_id": "1001"}})
    with pytest.raises(UnexpectedEvent) as raised:
        read_data(broken, reading.Follow)
    assert raised.value.event_id == broken.id  # the runner finds the record by it
    assert poison.is_poison(raised.value)
    reason = poison.invalid_event(broken, raised.value)
    assert reason.code == poison.INVALID_EVENT and "followee_id" in reason.message
    # A version this consumer does not read: the schema names the version it expected.
    newer = Event(**{**FOLLOWED.model_dump(), "version": 9})
    with pytest.raises(UnexpectedEvent) as raised:
        read_data(newer, reading.Follow)
    assert "version" in poison.invalid_event(newer, raised.value).message


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connection refused"),
    pg8000.native.InterfaceError("network error"),
    redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379"),
    TimeoutError("timed out"),
    ObjectMissing("s3://kafkagram-media/uploads/1/2 does not exist"),
    RuntimeError("a bug"),
], ids=lambda error: type(error).__name__)
def test_outages_and_bugs_are_transient(error: Exception) -> None:
    assert not poison.is_poison(error)


def test_the_failure_record_has_lambdas_shape_plus_the_reason() -> None:
    value = b"{not json"
    record = KafkaRecord("user-events", 2, 41, int(time.time() * 1000), False, b"1001", value, [("h", b"\xc3\xab")])
    event = invocation_event([record], event_source="aws:kafka", event_source_arn=EVENT_SOURCE_ARN,
                             bootstrap_servers=BOOTSTRAP)
    [raw] = event["records"]["user-events-2"]
    context = lambda_context("kafkagram-local-notify")
    ours = poison.failure_record(event, raw, poison.Reason(poison.NOT_AN_EVENT, "not JSON\x00"), context)
    lambdas = json.loads(failure_record(record, condition="RetriesExhausted", function_arn=context.invoked_function_arn,
                                        invoke_count=3, function_error="Unhandled", event_source_arn=EVENT_SOURCE_ARN,
                                        event_source="aws:kafka", bootstrap_servers=BOOTSTRAP,
                                        now_ms=int(time.time() * 1000)))

    def shape(document: Any) -> Any:
        if isinstance(document, dict):
            return {key: shape(value) for key, value in document.items()}
        return type(document).__name__

    assert shape({key: value for key, value in ours.items() if key not in ("reason", "responseContext")}) == shape(
        {key: value for key, value in lambdas.items() if key != "responseContext"})
    assert ours["payload"] == lambdas["payload"]  # the whole invocation event of the one record
    assert ours["KafkaBatchInfo"] == {**lambdas["KafkaBatchInfo"]}
    assert ours["requestContext"]["condition"] == poison.POISON_CONDITION
    assert ours["requestContext"]["functionArn"] == lambdas["requestContext"]["functionArn"]
    assert ours["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": None}
    assert ours["reason"] == {"code": "not-an-event", "message": "not JSON\\u0000"}  # PostgreSQL's jsonb holds no NUL
    json.dumps(ours)


@pytest.mark.parametrize(("key", "expected"), [
    ("MTAwMQ==", "1001"), (None, None), (b64(b"\xff\xfe"), None), (b64(b"a\x00b"), None)])
def test_the_failure_record_keeps_the_original_key_when_it_is_text(key: str | None, expected: str | None) -> None:
    assert poison.record_key(event_record(b64(b"{}"), key=key)) == expected
