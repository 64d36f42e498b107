"""Publish the event catalogue: the per-type JSON Schemas in the layer and `docs/asyncapi.yaml`.

Both are generated from `kafkagram.events.catalog` (and the WebSocket API's channel from
`kafkagram.events.live`) and checked in; tests fail when they drift.
Regenerate with `python -m kafkagram_local.asyncapi`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from kafkagram.events.catalog import (
    CATALOG,
    ID_PATTERN,
    RETIRED,
    SCHEMAS_DIR,
    EventType,
    event_schema,
    retired_versions,
    topics,
    types_on,
)
from kafkagram.events.live import MESSAGES as LIVE_MESSAGES
from kafkagram.events.live import LiveMessage

REPO_ROOT = Path(__file__).resolve().parent.parent
ASYNCAPI_PATH = REPO_ROOT / "docs" / "asyncapi.yaml"
ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "2.1.0"  # bump with the catalogue: minor for new types or fields, major for breaks
KAFKA_BINDING_VERSION = "0.5.0"
LOCAL_BOOTSTRAP = "127.0.0.1:9092"
LOCAL_WEBSOCKET = "127.0.0.1:3001"
WEBSOCKET_CHANNEL = "websocket"
# The events the WebSocket API pushes as they are (timeline-updated in its version 1's shape).
PUSHED_EVENTS = ("notification-created", "timeline-updated.v1")
EXAMPLE_EVENT_ID = "0197c1d2-3a4b-7c5d-8e6f-0a1b2c3d4e5f"
EXAMPLE_OCCURRED_AT = "2025-06-01T12:00:00.000Z"
EXAMPLE_ACTOR_ID = "1001"  # every example in the catalogue is something user 1001 did
HEADER = ("# Generated from kafkagram.events.catalog by kafkagram_local.asyncapi.write_asyncapi; do not edit.\n"
          "# Regenerate: .venv/bin/python -m kafkagram_local.asyncapi\n")

DESCRIPTION = """\
Every event kafkagram publishes. Each Kafka record's value is a JSON envelope {"id", "type",
"version", "occurred_at", "actor_id", "data"}: `id` is a UUID (version 7) unique per event, on which
consumers deduplicate (delivery is at least once); `occurred_at` is ISO 8601 in UTC; `actor_id` is
the user whose action caused the event, or null. Every id in `data` is a 64-bit, time-ordered id
written as a string of digits (JavaScript numbers cannot hold it). The record key is one field of
`data` (see each message's Kafka binding): the id of the aggregate whose events must stay in order
on one partition, or for timeline-updated the shard of its recipients; producers use the murmur2
partitioner (Java's default) so every client agrees on it. Events are written to a transactional
outbox with the state change they describe and relayed to Kafka. Consumers must ignore fields they
do not know; a breaking change bumps `version`, and the version producers no longer write stays
described here (as `<type>.v<N>`, with how to move on) for the records a topic still holds. Records
a handler could not process go to `<topic>-failed` as AWS Lambda failure records. A record that can
never succeed goes there at once, written by the function itself rather than retried: condition
`PoisonRecord`, plus a `reason` {"code", "message"} whose code is `not-an-event` (not base64, UTF-8,
JSON or an envelope), `unknown-event-type` or `invalid-event` (data its consumer cannot read; the
message gives the schema errors); see docs/runtime.md, "Poison records". The payload
schemas are also in the layer as JSON Schema draft 2020-12 (kafkagram/events/schemas/<type>.json,
and <type>.v<N>.json for retired versions).

What the WebSocket API pushes to a user's connections is that user's view: notification-created as
it is, and timeline-updated in the shape of its version 1 (one `user_id`, the connection's own
user). The `websocket` channel lists every WebSocket message: those pushed events, the actions a
client sends (`{"action": "watch" | "unwatch" | "ping", ...}`, routed on `action`) and the frames
kafkagram answers with, among them `post-stats-updated` (the live like and comment counts of the
posts a connection watches).
"""

TOPIC_DESCRIPTIONS = {
    "user-events": "Accounts, profiles and the follow graph.",
    "post-events": "Posts published and deleted.",
    "interaction-events": "Likes and comments on posts.",
    "timeline-events": "Changes to a user's home timeline, for live updates.",
    "notification-events": "Notifications created for a user.",
    "media-events": "Uploaded media through processing.",
}


def schema_files() -> dict[str, str]:
    """File name to content of every per-type JSON Schema, retired versions included."""
    return {f"{spec.schema_name}.json": json.dumps(event_schema(spec.name, spec.version), indent=2,
                                                   ensure_ascii=False) + "\n"
            for spec in [*CATALOG.values(), *RETIRED]}


def write_schemas(directory: Path = SCHEMAS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in schema_files().items():
        path = directory / file_name
        path.write_text(text)
        written.append(path)
    return written


def example_event(spec: EventType) -> dict[str, Any]:
    return {"id": EXAMPLE_EVENT_ID, "type": spec.name, "version": spec.version,
            "occurred_at": EXAMPLE_OCCURRED_AT, "actor_id": EXAMPLE_ACTOR_ID, "data": spec.example}


def asyncapi_document() -> dict[str, Any]:
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "kafkagram events", "version": DOCUMENT_VERSION, "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {"local": {"host": LOCAL_BOOTSTRAP, "protocol": "kafka",
                              "description": "the broker `make up` runs, unless KAFKA_BOOTSTRAP_SERVERS is set"},
                    "websocket": {"host": LOCAL_WEBSOCKET, "pathname": "/local", "protocol": "ws",
                                  "description": "the WebSocket API `make up` serves (on AWS the stack's "
                                                 "WebSocketUrl output); connect with ?token=<access token>"}},
        "channels": {**{topic: _channel(topic) for topic in topics()}, WEBSOCKET_CHANNEL: _websocket_channel()},
        "operations": {**{f"send-{topic}": _operation(topic) for topic in topics()},
                       **_websocket_operations()},
        "components": {
            "messages": {spec.schema_name: _message(spec) for spec in [*CATALOG.values(), *RETIRED]},
            "schemas": {spec.schema_name: _payload_schema(spec) for spec in [*CATALOG.values(), *RETIRED]},
        },
    }


def _channel(topic: str) -> dict[str, Any]:
    return {
        "address": topic,
        "title": topic,
        "description": f"{TOPIC_DESCRIPTIONS[topic]} Partitions: KAFKA_PARTITIONS (6 by default).",
        "servers": [{"$ref": "#/servers/local"}],
        "messages": {spec.schema_name: {"$ref": f"#/components/messages/{spec.schema_name}"}
                     for spec in _versions_on(topic)},
        "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _operation(topic: str) -> dict[str, Any]:
    return {
        "action": "send",
        "title": f"Publish to {topic}",
        "summary": "kafkagram publishes these events through its outbox relay.",
        "channel": {"$ref": f"#/channels/{topic}"},
        "messages": [{"$ref": f"#/channels/{topic}/messages/{spec.name}"} for spec in types_on(topic)],
    }


def _websocket_channel() -> dict[str, Any]:
    return {
        "address": "/",
        "title": "WebSocket API",
        "description": "One connection per signed-in tab. A client's message is JSON with an `action` (the "
                       "route); kafkagram's frames are JSON with a `type`: the events it pushes (an envelope "
                       "with `id`, on which clients de-duplicate) and the frames below.",
        "servers": [{"$ref": f"#/servers/{WEBSOCKET_CHANNEL}"}],
        "messages": {**{message.name: _live_message(message) for message in LIVE_MESSAGES},
                     **{name: {"$ref": f"#/components/messages/{name}"} for name in PUSHED_EVENTS}},
    }


def _live_message(message: LiveMessage) -> dict[str, Any]:
    return {"name": message.name, "title": message.name, "summary": message.summary,
            "contentType": "application/json", "payload": message.schema,
            "examples": [{"name": message.name, "payload": message.example}]}


def _websocket_operations() -> dict[str, Any]:
    def refs(names: list[str]) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/{WEBSOCKET_CHANNEL}/messages/{name}"} for name in names]

    return {
        "receive-websocket": {"action": "receive", "title": "Messages clients send",
                              "channel": {"$ref": f"#/channels/{WEBSOCKET_CHANNEL}"},
                              "messages": refs([m.name for m in LIVE_MESSAGES if m.direction == "client"])},
        "send-websocket": {"action": "send", "title": "Frames kafkagram sends to a connection",
                           "channel": {"$ref": f"#/channels/{WEBSOCKET_CHANNEL}"},
                           "messages": refs([*(m.name for m in LIVE_MESSAGES if m.direction == "server"),
                                             *PUSHED_EVENTS])},
    }


def _versions_on(topic: str) -> list[EventType]:
    """The types on a topic, each followed by its retired versions."""
    return [version for spec in types_on(topic) for version in [spec, *retired_versions(spec.name)]]


def _message(spec: EventType) -> dict[str, Any]:
    key = spec.properties[spec.key]
    message = {
        "name": spec.schema_name,
        "title": f"{spec.name} (version {spec.version}{', retired' if spec.migration else ''})",
        "summary": spec.summary,
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{spec.schema_name}"},
        "bindings": {"kafka": {
            "key": {"type": "string", "pattern": key.get("pattern", ID_PATTERN),
                    "description": f"data.{spec.key}: {key['description']}"},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }},
        "examples": [{"name": spec.schema_name, "payload": example_event(spec)}],
    }
    if spec.migration:
        message["description"] = spec.migration
    return message


def _payload_schema(spec: EventType) -> dict[str, Any]:
    # AsyncAPI's default schema format is a superset of JSON Schema draft 7; the catalogue's schemas use
    # only keywords both drafts share, so they go in as they are, minus the draft 2020-12 identifiers.
    schema = event_schema(spec.name, spec.version)
    del schema["$schema"], schema["$id"]
    return schema


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, so the descriptions read as written."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def asyncapi_yaml() -> str:
    return HEADER + yaml.dump(asyncapi_document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def write_asyncapi(path: Path = ASYNCAPI_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(asyncapi_yaml())
    return path


def main() -> None:
    for written in [*write_schemas(), write_asyncapi()]:
        print(written.relative_to(REPO_ROOT) if written.is_relative_to(REPO_ROOT) else written)


if __name__ == "__main__":
    main()
