"""Live updates under `kafkagram up`, through a real WebSocket client: the `$connect` route checks the
access token and registers the connection in Redis; events reach Kafka through the outbox relay; the
push function posts them through the runtime's `@connections` API to every open connection.

Covers the design's use cases "a post reaches the follower's open WebSocket" (fan-out ->
timeline-updated -> push) and "an interaction reaches its owner as a live notification" (here a follow,
through the API and the notify function, and a notification-created enqueued straight in the outbox)."""

from __future__ import annotations

import json
import os
import random
from typing import Any

import pytest
import redis
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from kafkagram.db import connect as db_connect
from kafkagram.db import transaction
from kafkagram.events import Event, new_event
from kafkagram.ids import compose_id, wall_clock_ms
from kafkagram.outbox import enqueue
from kafkagram.timeline import FeedManager
from tests.support.up import api_call, register_users, running_up

WAIT_S = 60.0  # the first event of a run starts cold sandboxes behind two or three mappings


def open_ws(port: int, token: str | None) -> ClientConnection:
    query = "" if token is None else f"?token={token}"
    return connect(f"ws://127.0.0.1:{port}/local{query}", proxy=None, open_timeout=WAIT_S)


def next_of_type(client: ClientConnection, type_name: str) -> dict[str, Any]:
    """The next message of that type (a client may also get other live updates first)."""
    while True:
        message = json.loads(client.recv(timeout=WAIT_S))
        if message["type"] == type_name:
            return dict(message)


def emit(database_url: str, event: Event) -> None:
    """Commit an event to the outbox by hand, as any producer may."""
    database = db_connect(database_url)
    try:
        with transaction(database):
            enqueue(database, event)
    finally:
        database.close()


@pytest.mark.slow
def test_notifications_and_new_posts_reach_open_websockets(fresh_database, tmp_path):
    with running_up(fresh_database, tmp_path) as ports:
        sessions = register_users(ports["http"], "ada", "bob")
        tokens = {name: session["access_token"] for name, session in sessions.items()}
        ids = {name: int(session["user"]["id"]) for name, session in sessions.items()}

        for bad in (None, "not-a-token"):
            with pytest.raises(InvalidStatus) as refused:
                open_ws(ports["ws"], bad)
            assert refused.value.response.status_code == 401

        with open_ws(ports["ws"], tokens["ada"]) as ada:
            # A follow through the API: notify -> notification-created -> push -> ada's socket.
            status, _ = api_call(ports["http"], "PUT", "/api/users/ada/follow", token=tokens["bob"])
            assert status == 204
            follow = next_of_type(ada, "notification-created")
            assert follow["data"]["kind"] == "follow"
            assert follow["data"]["user_id"] == str(ids["ada"])
            assert follow["data"]["from_user_id"] == str(ids["bob"])

            # Any producer may emit the event: here one committed to the outbox by hand.
            like = new_event("notification-created", {
                "notification_id": str(compose_id(wall_clock_ms(), 1, random.randrange(1024))),
                "user_id": str(ids["ada"]), "kind": "like", "from_user_id": str(ids["bob"]),
                "post_id": "3002", "comment_id": None, "text": None}, ids["bob"])
            emit(fresh_database, like)
            assert next_of_type(ada, "notification-created")["id"] == like.id

        # A new post of ada's reaches bob, an active and connected follower: fan-out -> timeline-updated.
        feeds = FeedManager(redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")))
        feeds.mark_active(ids["bob"])
        with open_ws(ports["ws"], tokens["bob"]) as bob:
            post_id = compose_id(wall_clock_ms(), 1, random.randrange(1024))
            created = new_event("post-created", {"post_id": str(post_id), "author_id": str(ids["ada"]),
                                                 "caption": "live", "media_ids": [str(post_id + 1)],
                                                 "hashtags": [], "mentioned_user_ids": []}, ids["ada"])
            emit(fresh_database, created)
            update = next_of_type(bob, "timeline-updated")
            assert update["data"] == {"user_id": str(ids["bob"]), "action": "added", "post_ids": [str(post_id)],
                                      "author_id": str(ids["ada"])}
