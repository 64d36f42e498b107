"""The event catalogue: envelope, JSON Schemas per type, Kafka keys, and the AsyncAPI document."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import yaml
from jsonschema import Draft202012Validator

from kafkagram.config import TOPICS
from kafkagram.events import (
    CATALOG,
    Event,
    EventValidationError,
    UnknownEventType,
    key_for,
    new_event,
    new_event_id,
    topic_for,
    types_on,
    validate,
)
from kafkagram.events.catalog import RETIRED, SCHEMAS_DIR, event_schema, retired_versions
from kafkagram_local.asyncapi import ASYNCAPI_PATH, asyncapi_document, asyncapi_yaml, schema_files

# The topics and event types of the design, as the catalogue must keep them.
DESIGN = {
    "user-events": ["user-registered", "user-followed", "user-unfollowed", "profile-updated", "webhook-ping"],
    "post-events": ["post-created", "post-deleted"],
    "interaction-events": ["like-given", "like-removed", "comment-added", "comment-deleted"],
    "timeline-events": ["timeline-updated"],
    "notification-events": ["notification-created"],
    "media-events": ["media-uploaded", "media-processed", "media-failed"],
}
# Whose order each type's key keeps: post events by post, follows by follower, interactions by post,
# notifications by recipient, timeline updates by the recipients' shard, media by media.
KEY_FIELDS = {
    "user-registered": "user_id", "user-followed": "follower_id", "user-unfollowed": "follower_id",
    "profile-updated": "user_id", "post-created": "post_id", "post-deleted": "post_id",
    "like-given": "post_id", "like-removed": "post_id", "comment-added": "post_id", "comment-deleted": "post_id",
    "timeline-updated": "shard", "timeline-updated.v1": "user_id", "notification-created": "user_id",
    "media-uploaded": "media_id", "media-processed": "media_id", "media-failed": "media_id",
    "webhook-ping": "user_id",
}
REGENERATE = "regenerate with `.venv/bin/python -m kafkagram_local.asyncapi`"
ALL_TYPES = list(CATALOG)


def sample(type_name: str) -> dict:
    return new_event(type_name, CATALOG[type_name].example, actor_id=1001).to_dict()


def test_every_design_type_is_catalogued_on_its_topic():
    assert list(DESIGN) == list(TOPICS)
    for topic, names in DESIGN.items():
        assert [spec.name for spec in types_on(topic)] == names
        for name in names:
            assert topic_for(name) == topic
    assert sorted(CATALOG) == sorted(name for names in DESIGN.values() for name in names)


def test_unknown_type_has_no_topic():
    with pytest.raises(UnknownEventType, match="unknown event type 'post-liked'"):
        topic_for("post-liked")


def test_every_type_has_a_schema_file_and_no_file_is_stray():
    assert sorted(path.name for path in SCHEMAS_DIR.glob("*.json")) == sorted(
        [*(f"{name}.json" for name in CATALOG), *(f"{spec.schema_name}.json" for spec in RETIRED)])


def test_a_retired_version_is_still_read_validated_and_keyed_as_it_was():
    [old] = retired_versions("timeline-updated")
    assert old.version < CATALOG["timeline-updated"].version and "recipient_ids" in (old.migration or "")
    event = Event(type=old.name, version=old.version, actor_id="1001", data=old.example)
    validate(event)
    assert key_for(event) == old.example["user_id"]
    with pytest.raises(EventValidationError):  # the old shape is not the current version's
        validate({**event.to_dict(), "version": CATALOG["timeline-updated"].version})


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_schema_files_are_valid_draft_2020_12_for_the_whole_envelope(type_name):
    schema = json.loads((SCHEMAS_DIR / f"{type_name}.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["id", "type", "version", "occurred_at", "actor_id", "data"]
    assert schema["properties"]["type"] == {"const": type_name}


def test_schema_files_match_the_catalogue():
    for file_name, text in schema_files().items():
        assert (SCHEMAS_DIR / file_name).read_text() == text, f"{file_name} drifted: {REGENERATE}"


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_a_sample_event_of_each_type_validates_and_round_trips(type_name):
    event = sample(type_name)
    validate(event)
    validate(Event.model_validate(event))
    assert Event.from_json(json.dumps(event)).to_dict() == event


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_ids_in_data_must_be_strings_of_digits(type_name):
    event = sample(type_name)
    id_field = CATALOG[type_name].key
    event["data"][id_field] = int(event["data"][id_field])
    with pytest.raises(EventValidationError, match=rf"data\.{id_field}: \d+ is not of type 'string'"):
        validate(event)


def _mutated(type_name: str, change) -> dict:
    event = sample(type_name)
    change(event)
    return event


WRONG_EVENTS = [
    ("missing data field", "like-given", lambda e: e["data"].pop("user_id"),
     r"invalid like-given event: data: 'user_id' is a required property"),
    ("extra data field", "post-deleted", lambda e: e["data"].update(reason="spam"),
     r"data: Additional properties are not allowed \('reason' was unexpected\)"),
    ("extra envelope field", "post-deleted", lambda e: e.update(topic="post-events"),
     r"\(envelope\): Additional properties are not allowed"),
    ("id with leading zero", "user-followed", lambda e: e["data"].update(followee_id="0042"),
     r"data\.followee_id: '0042' does not match"),
    ("wrong version", "post-created", lambda e: e.update(version=2), r"version: 1 was expected"),
    ("offset instead of UTC", "post-created", lambda e: e.update(occurred_at="2025-06-01T14:00:00+02:00"),
     r"occurred_at: '2025-06-01T14:00:00\+02:00' does not match"),
    ("not a UUID", "media-failed", lambda e: e.update(id="123"), r"id: '123' does not match"),
    ("too many media", "post-created", lambda e: e["data"].update(media_ids=[str(i) for i in range(1, 12)]),
     r"data\.media_ids: .* is too long"),
    ("unknown enum value", "timeline-updated", lambda e: e["data"].update(action="moved"),
     r"data\.action: 'moved' is not one of \['added', 'removed'\]"),
    ("nested variant field", "media-processed", lambda e: e["data"]["variants"][0].pop("width"),
     r"data\.variants\[0\]: 'width' is a required property"),
    ("unknown type", "like-given", lambda e: e.update(type="like-sent"), r"unknown event type 'like-sent'"),
    ("no type", "like-given", lambda e: e.pop("type"), r"event has no string 'type'"),
]


@pytest.mark.parametrize(("case", "type_name", "change", "message"), WRONG_EVENTS, ids=[c[0] for c in WRONG_EVENTS])
def test_wrong_events_fail_with_a_clear_message(case, type_name, change, message):
    with pytest.raises(EventValidationError, match=message):
        validate(_mutated(type_name, change))


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_key_is_the_id_of_the_aggregate_whose_order_matters(type_name):
    assert CATALOG[type_name].key == KEY_FIELDS[type_name]
    event = sample(type_name)
    assert key_for(event) == event["data"][KEY_FIELDS[type_name]]
    assert key_for(Event.model_validate(event)) == key_for(event)


def test_events_of_one_post_share_a_key_across_types():
    post = {"post_id": "3002", "post_author_id": "1002"}
    like = new_event("like-given", {**post, "user_id": "1001"}, 1001)
    unlike = new_event("like-removed", {**post, "user_id": "1003"}, 1003)
    comment = new_event("comment-added", {"comment_id": "4001", **post, "user_id": "1004", "text": "hi",
                                          "mentioned_user_ids": []}, 1004)
    assert key_for(like) == key_for(unlike) == key_for(comment) == "3002"


def test_occurred_at_is_iso_8601_utc_with_milliseconds():
    moment = datetime(2025, 6, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    event = new_event("post-deleted", {"post_id": "3001", "author_id": "1001"}, 1001, occurred_at=moment)
    assert event.to_dict()["occurred_at"] == "2025-06-01T12:00:00.123Z"
    assert event.occurred_at == datetime(2025, 6, 1, 12, 0, 0, 123000, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        new_event("post-deleted", {"post_id": "3001", "author_id": "1001"}, 1001, occurred_at=datetime(2025, 6, 1))


def test_event_ids_are_uuid7_in_time_order():
    ids = [new_event_id() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    parsed = [uuid.UUID(id_) for id_ in ids]
    assert {u.version for u in parsed} == {7} and {u.variant for u in parsed} == {uuid.RFC_4122}
    milliseconds = [u.int >> 80 for u in parsed]
    assert milliseconds == sorted(milliseconds)
    assert abs(milliseconds[0] - datetime.now(UTC).timestamp() * 1000) < 60_000


def test_system_events_may_have_no_actor():
    validate(new_event("media-failed", CATALOG["media-failed"].example, actor_id=None))


def test_the_asyncapi_document_is_up_to_date():
    assert ASYNCAPI_PATH.read_text() == asyncapi_yaml(), f"docs/asyncapi.yaml drifted: {REGENERATE}"


def test_the_asyncapi_document_describes_every_topic_type_and_key():
    document = yaml.safe_load(ASYNCAPI_PATH.read_text())
    assert document["asyncapi"] == "3.0.0"
    assert [c for c in document["channels"] if c != "websocket"] == list(TOPICS)  # and the WebSocket API's
    for topic, names in DESIGN.items():
        channel = document["channels"][topic]
        assert channel["address"] == topic and channel["bindings"]["kafka"]["topic"] == topic
        retired = [spec.schema_name for name in names for spec in retired_versions(name)]
        assert [m for m in channel["messages"] if m not in retired] == names
        operation = document["operations"][f"send-{topic}"]
        assert operation["action"] == "send" and len(operation["messages"]) == len(names)
    for name, message in document["components"]["messages"].items():
        assert message["bindings"]["kafka"]["key"]["description"].startswith(f"data.{KEY_FIELDS[name]}:")
        example = message["examples"][0]["payload"]
        validate(example)
        payload_schema = document["components"]["schemas"][name]
        version = example["version"]
        assert payload_schema == {k: v for k, v in event_schema(example["type"], version).items()
                                  if k not in ("$schema", "$id")}


def test_every_reference_in_the_asyncapi_document_resolves():
    document = asyncapi_document()

    def references(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from references(value)
        elif isinstance(node, list):
            for value in node:
                yield from references(value)

    refs = list(references(document))
    assert refs
    for ref in refs:
        target = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in target, f"{ref} does not resolve"
            target = target[part]
