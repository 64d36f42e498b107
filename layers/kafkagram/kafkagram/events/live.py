"""The WebSocket API's own messages, beside the events it pushes: what a client sends (`watch`, `unwatch`,
`ping`) and the frames kafkagram answers with or sends (`post-stats-updated`, `watch-refused`, `pong`).

The source of the WebSocket channel of `docs/asyncapi.yaml` (kafkagram_local.asyncapi); tests check the
frames the code builds against these schemas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from kafkagram.events.catalog import ID_PATTERN
from kafkagram.watchers import MAX_POST_IDS_PER_MESSAGE, MAX_WATCHED_POSTS, STATS_INTERVAL_MS


@dataclass(frozen=True)
class LiveMessage:
    name: str
    direction: Literal["client", "server"]  # who sends it: the client, or kafkagram
    summary: str
    schema: dict[str, Any]
    example: dict[str, Any]


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": required if required is not None else list(properties),
            "properties": properties}


# Functions, not shared dicts: the YAML of docs/asyncapi.yaml would show a shared one as an anchor.
def _post_ids() -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "maxItems": MAX_POST_IDS_PER_MESSAGE, "uniqueItems": True,
            "items": {"type": "string", "pattern": ID_PATTERN},
            "description": f"posts, as 64-bit ids written as strings of digits (at most {MAX_POST_IDS_PER_MESSAGE})"}


def _count() -> dict[str, Any]:
    return {"type": "integer", "minimum": 0}


MESSAGES = [
    LiveMessage(
        "watch", "client",
        f"Watch the posts on screen: their like and comment counts then arrive as post-stats-updated. A "
        f"connection watches at most {MAX_WATCHED_POSTS} posts (a watch past that adds none: watch-refused "
        f"too-many-watched), only posts its user may see (others are left out silently), until it unwatches "
        f"them or closes. The reply is a post-stats-updated frame with the current counts of the posts added.",
        _object({"action": {"const": "watch"}, "post_ids": _post_ids()}),
        {"action": "watch", "post_ids": ["3002", "3001"]},
    ),
    LiveMessage(
        "unwatch", "client", "Stop watching posts (they left the screen). No reply.",
        _object({"action": {"const": "unwatch"}, "post_ids": _post_ids()}),
        {"action": "unwatch", "post_ids": ["3001"]},
    ),
    LiveMessage(
        "ping", "client",
        "Keep the connection registered (and its watches): send one every few minutes, the server forgets "
        "a connection silent for 11. The reply is pong; a connection the server forgot is closed instead.",
        _object({"action": {"const": "ping"}}),
        {"action": "ping"},
    ),
    LiveMessage(
        "post-stats-updated", "server",
        f"The current like and comment counts of watched posts: the reply to watch, then whenever they "
        f"change, at most one frame per post every {STATS_INTERVAL_MS} ms, always ending with the final "
        f"counts. State, not deltas: the newest frame wins. One frame holds every post of the connection "
        f"that changed together; deleted posts are not reported.",
        _object({
            "type": {"const": "post-stats-updated"},
            "version": {"const": 1},
            "data": _object({"posts": {"type": "array", "items": _object({
                "post_id": {"type": "string", "pattern": ID_PATTERN},
                "likes_count": _count(),
                "comments_count": _count()})}}),
        }),
        {"type": "post-stats-updated", "version": 1,
         "data": {"posts": [{"post_id": "3002", "likes_count": 12, "comments_count": 3}]}},
    ),
    LiveMessage(
        "watch-refused", "server",
        "The reply to a watch that added nothing: invalid-message (post_ids missing, empty, too long or "
        "not ids), unknown-connection (the registration expired: reconnect) or too-many-watched.",
        _object({
            "type": {"const": "watch-refused"},
            "data": _object({
                "action": {"enum": ["watch", "unwatch"]},
                "code": {"enum": ["invalid-message", "unknown-connection", "too-many-watched"]},
                "message": {"type": "string"},
                "max_watched": {"const": MAX_WATCHED_POSTS}}),
        }),
        {"type": "watch-refused", "data": {"action": "watch", "code": "too-many-watched",
                                           "message": f"a connection watches at most {MAX_WATCHED_POSTS} posts; "
                                                      "unwatch some first", "max_watched": MAX_WATCHED_POSTS}},
    ),
    LiveMessage(
        "pong", "server", "The reply to ping.",
        _object({"type": {"const": "pong"}}),
        {"type": "pong"},
    ),
]

BY_NAME = {message.name: message for message in MESSAGES}
