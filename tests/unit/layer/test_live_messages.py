"""The WebSocket API's own messages (kafkagram.events.live): their schemas, the frames the code builds,
and their channel in docs/asyncapi.yaml."""

from __future__ import annotations

import json

import pytest
import yaml
from jsonschema import Draft202012Validator

from kafkagram.events.live import BY_NAME, MESSAGES
from kafkagram.flows.post_stats import stats_frame
from kafkagram.store.posts import PostStats
from kafkagram.watchers import MAX_POST_IDS_PER_MESSAGE
from kafkagram_local.asyncapi import ASYNCAPI_PATH


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.name)
def test_each_example_is_valid(message):
    Draft202012Validator.check_schema(message.schema)
    Draft202012Validator(message.schema).validate(message.example)


def test_the_stats_frame_the_function_sends_is_the_documented_one():
    frame = json.loads(stats_frame([PostStats(2**63 - 1, 12, 0), PostStats(3002, 0, 3)]))
    Draft202012Validator(BY_NAME["post-stats-updated"].schema).validate(frame)
    assert frame["data"]["posts"][0] == {"post_id": str(2**63 - 1), "likes_count": 12, "comments_count": 0}


def test_a_watch_holds_ids_as_strings_and_at_most_the_cap():
    schema = Draft202012Validator(BY_NAME["watch"].schema)
    assert not schema.is_valid({"action": "watch", "post_ids": [3002]})
    assert not schema.is_valid({"action": "watch", "post_ids": []})
    too_many = [str(n) for n in range(1, MAX_POST_IDS_PER_MESSAGE + 2)]
    assert not schema.is_valid({"action": "watch", "post_ids": too_many})


def test_the_asyncapi_document_has_the_websocket_channel_and_its_operations():
    document = yaml.safe_load(ASYNCAPI_PATH.read_text())
    channel = document["channels"]["websocket"]
    assert channel["servers"] == [{"$ref": "#/servers/websocket"}]
    assert document["servers"]["websocket"]["protocol"] == "ws"
    for message in MESSAGES:
        assert channel["messages"][message.name]["payload"] == message.schema
    received = {ref["$ref"].rsplit("/", 1)[1] for ref in document["operations"]["receive-websocket"]["messages"]}
    sent = {ref["$ref"].rsplit("/", 1)[1] for ref in document["operations"]["send-websocket"]["messages"]}
    assert received == {"watch", "unwatch", "ping"}
    assert sent == {"post-stats-updated", "watch-refused", "pong", "notification-created", "timeline-updated.v1"}
