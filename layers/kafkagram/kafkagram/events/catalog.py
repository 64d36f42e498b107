"""The event catalogue: every event type, its topic, its Kafka key and the JSON Schema of its `data`.

This module is the single source: `schemas/<type>.json` (what `validate` checks, and what other
programs read) and `docs/asyncapi.yaml` are generated from it by `kafkagram_local.asyncapi`, and tests
fail when they drift.

Rules the schemas encode:
- every id (user, post, media, comment, notification) is a 64-bit id written as a string of digits,
  because JavaScript numbers lose precision above 2**53; canonical form (no sign, no leading zero), so
  equal ids are equal strings and equal Kafka keys;
- every field of `data` is present (null where it has no value), so consumers never guess;
- producers are held to `additionalProperties: false` to catch typos; consumers ignore fields they do
  not know. A new optional field updates the schema in place; a breaking change bumps `version`.
- the key of an event is one field of its `data`, the id of the aggregate whose events must stay in
  order (one post's like-given/like-removed, one follower's followed/unfollowed, one recipient's
  notifications).
- a version that producers no longer write stays described in `RETIRED` (with how to move on): its
  records can still be in a topic, and consumers still read them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS_DIR = Path(__file__).parent / "schemas"
SCHEMA_ID_PREFIX = "urn:kafkagram:event:"

ID_PATTERN = "^[1-9][0-9]{0,18}$"
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
UTC_TIMESTAMP_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z$"
TYPE_PATTERN = "^[a-z][a-z0-9-]*$"

# Limits the HTTP API enforces on input; events carry what passed them, so the schemas repeat them.
USERNAME_PATTERN = "^[A-Za-z0-9._]{1,30}$"
DISPLAY_NAME_MAX_LENGTH = 64
BIO_MAX_LENGTH = 150
CAPTION_MAX_LENGTH = 2200
COMMENT_MAX_LENGTH = 2200
HASHTAG_MAX_LENGTH = 100
POST_MAX_MEDIA = 10
# Distinct @mentions a caption or a comment may hold: each one notifies (and may email) someone, so a
# caption naming hundreds of people would be a spam cannon.
MENTIONS_MAX = 20
FAILURE_MESSAGE_MAX_LENGTH = 500
# timeline-updated names chunks of recipients; each record holds users of one shard (timeline_shard).
TIMELINE_SHARDS = 8
TIMELINE_RECIPIENTS_MAX = 500


def timeline_shard(user_id: int) -> int:
    """The shard of a user's timeline-updated events: CRC-32 (IEEE, as zlib, Java's CRC32 and Node's
    zlib.crc32 compute it) of the id's decimal digits, modulo TIMELINE_SHARDS. A hash, not the id modulo
    the shard count: ids keep a per-millisecond sequence in their low bits, so most are multiples of 8 and
    modulo put nearly every user on one shard, one partition and one push sandbox (measured)."""
    return zlib.crc32(str(user_id).encode()) % TIMELINE_SHARDS

USER_EVENTS = "user-events"
POST_EVENTS = "post-events"
INTERACTION_EVENTS = "interaction-events"
TIMELINE_EVENTS = "timeline-events"
NOTIFICATION_EVENTS = "notification-events"
MEDIA_EVENTS = "media-events"

# Event types: the names below are the only spelling of each in the code.
USER_REGISTERED = "user-registered"
USER_FOLLOWED = "user-followed"
USER_UNFOLLOWED = "user-unfollowed"
PROFILE_UPDATED = "profile-updated"
POST_CREATED = "post-created"
POST_DELETED = "post-deleted"
LIKE_GIVEN = "like-given"
LIKE_REMOVED = "like-removed"
COMMENT_ADDED = "comment-added"
COMMENT_DELETED = "comment-deleted"
TIMELINE_UPDATED = "timeline-updated"
NOTIFICATION_CREATED = "notification-created"
MEDIA_UPLOADED = "media-uploaded"
MEDIA_PROCESSED = "media-processed"
MEDIA_FAILED = "media-failed"
WEBHOOK_PING = "webhook-ping"


class UnknownEventType(ValueError):
    pass


@dataclass(frozen=True)
class EventType:
    name: str
    topic: str
    key: str  # the field of `data` whose value is the Kafka key
    summary: str
    properties: dict[str, Any]  # JSON Schema of each field of `data` (all required)
    example: dict[str, Any]  # a valid `data`, for tests and the AsyncAPI document
    version: int = 1
    migration: str | None = None  # for a retired version: what replaced it, and how consumers move on

    @property
    def data_schema(self) -> dict[str, Any]:
        return _object(self.properties)

    @property
    def schema_name(self) -> str:
        """The schema file's name without `.json`: the type's for the current version, `<type>.v<N>` for
        a retired one."""
        return f"{self.name}.v{self.version}" if self.migration else self.name


# --- schema fragments -----------------------------------------------------------------------------

def _id(description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": ID_PATTERN, "description": description}


def _nullable_id(description: str) -> dict[str, Any]:
    return {"type": ["string", "null"], "pattern": ID_PATTERN, "description": description}


def _ids(description: str, min_items: int = 0, max_items: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": {"type": "string", "pattern": ID_PATTERN},
                              "uniqueItems": True, "minItems": min_items, "description": description}
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


def _text(max_length: int, description: str, nullable: bool = False) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "maxLength": max_length,
            "description": description}


def _enum(values: list[str], description: str) -> dict[str, Any]:
    return {"type": "string", "enum": values, "description": description}


def _count(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "description": description}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": list(properties),
            "properties": properties}


_USERNAME = {"type": "string", "pattern": USERNAME_PATTERN, "description": "unique handle"}
_PURPOSE = _enum(["post", "avatar"], "what the media is for")
_CONTENT_TYPE = {"type": "string", "pattern": "^image/[a-z0-9.+-]+$", "description": "MIME type"}
_OBJECT_KEY = {"type": "string", "minLength": 1, "description": "S3 object key in the media bucket"}
_VARIANT = _object({
    "width": _count("pixels"),
    "height": _count("pixels"),
    "object_key": _OBJECT_KEY,
    "content_type": _CONTENT_TYPE,
    "size_bytes": _count("bytes"),
})

# --- the catalogue ------------------------------------------------------------------------------------

_FOLLOW = {
    "follower_id": _id("the user who follows (the key: their timeline changes)"),
    "followee_id": _id("the user followed"),
}
_LIKE = {
    "post_id": _id("the post (the key)"),
    "post_author_id": _id("the post's author, who is notified (never changes, so safe to carry)"),
    "user_id": _id("the user who liked"),
}
_MEDIA = {
    "media_id": _id("the media (the key)"),
    "owner_id": _id("the user who uploaded it"),
    "purpose": _PURPOSE,
}

_TYPES = [
    EventType(
        USER_REGISTERED, USER_EVENTS, "user_id", "A person created an account.",
        {"user_id": _id("the new user (the key)"), "username": _USERNAME,
         "display_name": _text(DISPLAY_NAME_MAX_LENGTH, "name shown on the profile")},
        {"user_id": "1001", "username": "ada", "display_name": "Ada Lovelace"},
    ),
    EventType(
        USER_FOLLOWED, USER_EVENTS, "follower_id",
        "A user followed another: the follower's timeline gets the followee's recent posts.",
        _FOLLOW, {"follower_id": "1001", "followee_id": "1002"},
    ),
    EventType(
        USER_UNFOLLOWED, USER_EVENTS, "follower_id",
        "A user unfollowed another: the followee's posts leave the follower's timeline.",
        _FOLLOW, {"follower_id": "1001", "followee_id": "1002"},
    ),
    EventType(
        PROFILE_UPDATED, USER_EVENTS, "user_id",
        "A user's public profile changed (fields or avatar); carries the new public profile.",
        {"user_id": _id("the user (the key)"),
         "changed": {"type": "array", "minItems": 1, "uniqueItems": True,
                     "items": {"enum": ["username", "display_name", "bio", "avatar_media_id"]},
                     "description": "which fields changed"},
         "username": _USERNAME,
         "display_name": _text(DISPLAY_NAME_MAX_LENGTH, "name shown on the profile"),
         "bio": _text(BIO_MAX_LENGTH, "profile text"),
         "avatar_media_id": _nullable_id("the avatar's media, null when none")},
        {"user_id": "1001", "changed": ["avatar_media_id"], "username": "ada",
         "display_name": "Ada Lovelace", "bio": "", "avatar_media_id": "5001"},
    ),
    EventType(
        POST_CREATED, POST_EVENTS, "post_id",
        "A post was published (its media processed): fan it out to the followers' timelines.",
        {"post_id": _id("the post (the key; also its timeline score)"),
         "author_id": _id("the author, whose followers receive it"),
         "caption": _text(CAPTION_MAX_LENGTH, "caption as written"),
         "media_ids": _ids("the post's media, in display order", 1, POST_MAX_MEDIA),
         "hashtags": {"type": "array", "uniqueItems": True, "description": "hashtags, lowercase, without #",
                      "items": {"type": "string", "pattern": "^[^\\s#A-Z]+$", "maxLength": HASHTAG_MAX_LENGTH}},
         "mentioned_user_ids": _ids("users mentioned in the caption who exist", 0, MENTIONS_MAX)},
        {"post_id": "3001", "author_id": "1001", "caption": "Engines #math with @bob",
         "media_ids": ["5001", "5002"], "hashtags": ["math"], "mentioned_user_ids": ["1002"]},
    ),
    EventType(
        POST_DELETED, POST_EVENTS, "post_id",
        "A post was deleted: remove it from timelines and caches.",
        {"post_id": _id("the post (the key)"), "author_id": _id("the author, whose followers had it")},
        {"post_id": "3001", "author_id": "1001"},
    ),
    EventType(
        LIKE_GIVEN, INTERACTION_EVENTS, "post_id", "A user liked a post.",
        _LIKE, {"post_id": "3002", "post_author_id": "1002", "user_id": "1001"},
    ),
    EventType(
        LIKE_REMOVED, INTERACTION_EVENTS, "post_id", "A user took back their like.",
        _LIKE, {"post_id": "3002", "post_author_id": "1002", "user_id": "1001"},
    ),
    EventType(
        COMMENT_ADDED, INTERACTION_EVENTS, "post_id", "A user commented on a post.",
        {"comment_id": _id("the comment"), **_LIKE, "user_id": _id("the comment's author"),
         "text": _text(COMMENT_MAX_LENGTH, "the comment"),
         "mentioned_user_ids": _ids("users mentioned in the comment who exist", 0, MENTIONS_MAX)},
        {"comment_id": "4001", "post_id": "3002", "post_author_id": "1002", "user_id": "1001",
         "text": "Lovely", "mentioned_user_ids": []},
    ),
    EventType(
        COMMENT_DELETED, INTERACTION_EVENTS, "post_id",
        "A comment was deleted (by its author or the post's author: see actor_id).",
        {"comment_id": _id("the comment"), **_LIKE, "user_id": _id("the comment's author")},
        {"comment_id": "4001", "post_id": "3002", "post_author_id": "1002", "user_id": "1001"},
    ),
    EventType(
        TIMELINE_UPDATED, TIMELINE_EVENTS, "shard",
        "Posts were added to or removed from the home timelines of a chunk of users (for live updates).",
        {"shard": {"type": "string", "pattern": "^[0-9]+$",
                   "description": f"the key: the recipients' shard, the same for all of them: CRC-32 of a "
                                  f"recipient's id in decimal, modulo {TIMELINE_SHARDS} (so each user's updates "
                                  "stay in order on one partition)"},
         "recipient_ids": _ids(f"the users whose timeline changed (and who had an open WebSocket), at most "
                               f"{TIMELINE_RECIPIENTS_MAX}", 1, TIMELINE_RECIPIENTS_MAX),
         "action": _enum(["added", "removed"], "what happened to the posts"),
         "post_ids": _ids("the posts added or removed", 1),
         "author_id": _id("the author of those posts")},
        {"shard": "2", "recipient_ids": ["1002", "1010"], "action": "added", "post_ids": ["3001"],
         "author_id": "1001"},
        version=2,
    ),
    EventType(
        NOTIFICATION_CREATED, NOTIFICATION_EVENTS, "user_id",
        "Something happened that a user is told about (stored, counted, pushed, maybe emailed).",
        {"notification_id": _id("the notification (stable, so storing it twice is harmless)"),
         "user_id": _id("the recipient (the key)"),
         "kind": _enum(["like", "comment", "follow", "mention"], "what happened"),
         "from_user_id": _id("who did it"),
         "post_id": _nullable_id("the post concerned, null for follows"),
         "comment_id": _nullable_id("the comment concerned, null unless kind is comment or mention in one"),
         "text": _text(COMMENT_MAX_LENGTH, "an excerpt to show (the comment), or null", nullable=True)},
        {"notification_id": "6001", "user_id": "1002", "kind": "like", "from_user_id": "1001",
         "post_id": "3002", "comment_id": None, "text": None},
    ),
    EventType(
        MEDIA_UPLOADED, MEDIA_EVENTS, "media_id",
        "An upload completed and was checked (exists, allowed type and size): process it.",
        {**_MEDIA, "bucket": {"type": "string", "minLength": 1, "description": "S3 bucket"},
         "object_key": _OBJECT_KEY, "content_type": _CONTENT_TYPE, "size_bytes": _count("bytes")},
        {"media_id": "5001", "owner_id": "1001", "purpose": "post", "bucket": "kafkagram-media",
         "object_key": "uploads/1001/5001", "content_type": "image/jpeg", "size_bytes": 2481733},
    ),
    EventType(
        MEDIA_PROCESSED, MEDIA_EVENTS, "media_id",
        "Media was decoded, cleaned and resized: it is ready (posts waiting for it can publish).",
        {**_MEDIA, "width": _count("pixels, after EXIF orientation"), "height": _count("pixels"),
         "blurhash": {"type": "string", "minLength": 6, "description": "placeholder shown while loading"},
         "variants": {"type": "array", "minItems": 1, "items": _VARIANT, "description": "resized copies"}},
        {"media_id": "5001", "owner_id": "1001", "purpose": "post", "width": 4000, "height": 3000,
         "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
         "variants": [{"width": 1080, "height": 810, "object_key": "media/5001/1080.jpg",
                       "content_type": "image/jpeg", "size_bytes": 182311}]},
    ),
    EventType(
        MEDIA_FAILED, MEDIA_EVENTS, "media_id",
        "Media was refused by processing (not an image, animated, too large, a decompression bomb...).",
        {**_MEDIA, "reason": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$",
                              "description": "a stable code, e.g. not-an-image, decompression-bomb"},
         "message": _text(FAILURE_MESSAGE_MAX_LENGTH, "for people")},
        {"media_id": "5001", "owner_id": "1001", "purpose": "post", "reason": "not-an-image",
         "message": "the file is not an image that can be decoded"},
    ),
    EventType(
        WEBHOOK_PING, USER_EVENTS, "user_id",
        "A user asked for a test delivery (a ping) to one of their webhook endpoints (kafkagram.webhooks).",
        {"user_id": _id("the endpoint's owner (the key)"), "endpoint_id": _id("the webhook endpoint to ping")},
        {"user_id": "1001", "endpoint_id": "7001"},
    ),
]

# Versions producers no longer write, still described for the records a topic may hold.
RETIRED = [
    EventType(
        TIMELINE_UPDATED, TIMELINE_EVENTS, "user_id",
        "Posts were added to or removed from one user's home timeline (for live updates).",
        {"user_id": _id("the timeline's owner (the key)"),
         "action": _enum(["added", "removed"], "what happened to the posts"),
         "post_ids": _ids("the posts added or removed", 1),
         "author_id": _id("the author of those posts")},
        {"user_id": "1002", "action": "added", "post_ids": ["3001"], "author_id": "1001"},
        migration="Replaced by version 2, which names up to 500 recipients in `recipient_ids` (one record "
                  "per chunk of connected followers instead of one per follower) and is keyed by `shard`, "
                  "so one user's updates still stay in order. A consumer reads `recipient_ids` where it read "
                  "`user_id`, and handles both versions until the records of version 1 have left the topic "
                  "(kafkagram's push handler does).",
    ),
]

CATALOG: dict[str, EventType] = {event_type.name: event_type for event_type in _TYPES}
VERSIONS: dict[tuple[str, int], EventType] = {(spec.name, spec.version): spec for spec in [*_TYPES, *RETIRED]}


def spec_for(type_name: str, version: int | None = None) -> EventType:
    """The type's current version, or the version asked for (a retired one included)."""
    try:
        current = CATALOG[type_name]
    except KeyError:
        raise UnknownEventType(f"unknown event type {type_name!r}; known: {', '.join(CATALOG)}") from None
    if version is None or version == current.version:
        return current
    try:
        return VERSIONS[(type_name, version)]
    except KeyError:
        known = sorted(v for name, v in VERSIONS if name == type_name)
        raise UnknownEventType(f"{type_name} has no version {version}; known: {known}") from None


def retired_versions(type_name: str) -> list[EventType]:
    return [spec for spec in RETIRED if spec.name == type_name]


def topic_for(type_name: str) -> str:
    return spec_for(type_name).topic


def types_on(topic: str) -> list[EventType]:
    return [event_type for event_type in _TYPES if event_type.topic == topic]


def topics() -> list[str]:
    return list(dict.fromkeys(event_type.topic for event_type in _TYPES))


def event_schema(type_name: str, version: int | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole event of this type (and version): envelope and data."""
    spec = spec_for(type_name, version)
    retired = f" Retired: {spec.migration}" if spec.migration else ""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{SCHEMA_ID_PREFIX}{spec.name}:{spec.version}",
        "title": spec.name if not spec.migration else f"{spec.name} version {spec.version}",
        "description": f"{spec.summary} Topic {spec.topic}, Kafka key data.{spec.key}.{retired}",
        **_object({
            "id": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN,
                   "description": "unique event id (UUID, version 7 from kafkagram); consumers deduplicate on it"},
            "type": {"const": spec.name},
            "version": {"const": spec.version, "description": "version of this type's data"},
            "occurred_at": {"type": "string", "format": "date-time", "pattern": UTC_TIMESTAMP_PATTERN,
                            "description": "when it happened, ISO 8601 in UTC"},
            "actor_id": _nullable_id("the user whose action caused the event; null when the system acted alone"),
            "data": spec.data_schema,
        }),
    }


def schema_path(type_name: str, version: int | None = None) -> Path:
    return SCHEMAS_DIR / f"{spec_for(type_name, version).schema_name}.json"
