"""The broker stops while people use the app: the API keeps answering (each change and its event are
committed together in PostgreSQL), nothing is lost, and every effect happens once the broker is back."""

from __future__ import annotations

import uuid

import pytest

from emulator.kafka.broker import LocalBroker, ensure_topics
from kafkagram.config import Settings
from kafkagram.db import connect
from tests.support.services import free_port
from tests.support.up import api_call, running_up
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

WAIT_S = 120.0  # the relay's backoff, the pollers' reconnection and cold sandboxes, on 2 cores


def unpublished(database_url: str) -> int:
    database = connect(database_url)
    try:
        return int(database.run("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0])
    finally:
        database.close()


def test_what_people_do_while_the_broker_is_down_is_published_when_it_returns(fresh_database, tmp_path):
    port = free_port()
    broker = LocalBroker(port=port, log_path=tmp_path / "tansu.log")
    bootstrap = broker.start()
    ensure_topics(bootstrap, Settings().all_topics)
    try:
        with running_up(fresh_database, tmp_path, kafka_bootstrap=bootstrap) as ports:
            def call(method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
                status, reply = api_call(ports["http"], method, path, body, token)
                assert status < 300, (method, path, status, reply)
                return reply or {}

            tokens = {}
            for name in ("pia", "quinn", "rae"):
                username = f"{name}_{uuid.uuid4().hex[:6]}"
                call("POST", "/api/auth/register", {"username": username, "email": f"{username}@example.org",
                                                    "password": "correct horse battery"})
                reply = call("POST", "/api/auth/login", {"username": username, "password": "correct horse battery"})
                tokens[name] = (username, reply["access_token"])
            wait_for(lambda: unpublished(fresh_database) == 0, timeout=WAIT_S, message="registrations published")

            broker.stop()
            star, star_token = tokens["pia"]
            for name in ("quinn", "rae"):
                call("PUT", f"/api/users/{star}/follow", token=tokens[name][1])
            assert unpublished(fresh_database) == 2  # answered, kept, not yet sent

            broker.start()  # on the same port; Tansu keeps nothing in memory, a real broker keeps its topics
            ensure_topics(bootstrap, Settings().all_topics)
            wait_for(lambda: unpublished(fresh_database) == 0, timeout=WAIT_S, message="the outbox drained")

            def follow_notification() -> dict | None:
                page = call("GET", "/api/notifications", token=star_token)
                follows = [group for group in page["items"] if group["kind"] == "follow"]
                return follows[0] if follows and follows[0]["actor_count"] == 2 else None

            group = wait_for(follow_notification, timeout=WAIT_S, message="one grouped follow notification")
            assert sorted(actor["username"] for actor in group["actors"]) == sorted(
                tokens[name][0] for name in ("quinn", "rae"))
            assert call("GET", f"/api/users/{star}", token=star_token)["followers_count"] == 2
    finally:
        broker.stop()
