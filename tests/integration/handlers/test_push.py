"""Push and the WebSocket routes against the emulator's real WebSocket gateway: the repo template's
route functions run in Lambda sandboxes (token check, registry in Redis), clients are `websockets`
clients, and the push handler posts through boto3's `apigatewaymanagementapi` to the gateway."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidStatus

from handlers import push
from kafkagram.auth import AccessTokens
from kafkagram.auth.tokens import LOCAL_DEVELOPMENT_SECRET
from kafkagram.clients import Clients
from kafkagram.connections import ConnectionRegistry
from kafkagram.events import Event, new_event
from kafkagram.events.catalog import timeline_shard
from tests.support.invocations import invoke, kafka_record
from tests.support.services import REDIS_TEST_URL, free_port
from tests.support.websocket import (
    Served,
    open_client,
    recv_json,
    template_websocket_api,
    wait_for,
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with template_websocket_api(tmp_path_factory.mktemp("ws")) as served:
        yield served


@pytest.fixture
def registry() -> Iterator[ConnectionRegistry]:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    yield ConnectionRegistry(client)
    client.close()


@pytest.fixture
def push_handler(gateway: Served, sandbox: pytest.MonkeyPatch) -> Iterator[Any]:
    """handlers/push.py with the environment the runtime gives it (endpoint rewritten to the gateway)."""
    sandbox.setenv("WEBSOCKET_ENDPOINT", f"http://{gateway.host}/local")
    sandbox.setattr(push, "clients", Clients(redis_url=REDIS_TEST_URL))
    push.reset_management_api()
    yield push.handler
    push.clients.close()
    push.reset_management_api()


def user_id() -> int:
    return random.randrange(10**15, 10**16)  # no database row needed: $connect checks the token only


def token(user: int) -> str:
    return AccessTokens(LOCAL_DEVELOPMENT_SECRET).issue(user)


def notification(user: int) -> Event:
    return new_event("notification-created", {
        "notification_id": str(user + 1), "user_id": str(user), "kind": "like", "from_user_id": "1001",
        "post_id": "3002", "comment_id": None, "text": None}, 1001)


def timeline_updated(*users: int) -> Event:
    """A version 2 update naming `users` (of one shard, as fan-out groups them)."""
    return new_event("timeline-updated", {"shard": str(timeline_shard(users[0])),
                                          "recipient_ids": [str(user) for user in users], "action": "added",
                                          "post_ids": ["3001"], "author_id": "1001"}, 1001)


def view_of(event: Event, user: int) -> dict[str, Any]:
    """What a recipient's connections receive of a timeline update: their own view, version 1's shape."""
    return {"user_id": str(user), "action": event.data["action"], "post_ids": event.data["post_ids"],
            "author_id": event.data["author_id"]}


def connected(registry: ConnectionRegistry, user: int, count: int) -> list[str]:
    return wait_for(lambda: (c := registry.connections_of([user]).get(user, [])) and len(c) == count and c,
                    f"{count} registered connection(s) of user {user}")


def test_connect_without_or_with_a_bad_token_is_refused_with_401(gateway):
    for url in (gateway.url("/local", token=None), gateway.url("/local", token="not-a-jwt")):
        with pytest.raises(InvalidStatus) as refused:
            open_client(gateway, url=url)
        assert refused.value.response.status_code == 401


def test_connect_registers_under_the_presence_key_and_disconnect_forgets(gateway, registry):
    user = user_id()
    with open_client(gateway, url=gateway.url("/local", token=token(user))):
        [connection_id] = connected(registry, user, 1)
        assert registry.connected([user]) == [user]  # what fan-out asks
        assert registry.user_of(connection_id) == user
        assert 0 < registry._redis.ttl(registry.user_key(user)) <= registry.ttl_s
    wait_for(lambda: not registry._redis.exists(registry.user_key(user), registry.connection_key(connection_id)),
             "the registry to forget the closed connection")


def test_ping_refreshes_the_registration_and_answers_pong(gateway, registry):
    user = user_id()
    with open_client(gateway, url=gateway.url("/local", token=token(user))) as client:
        [connection_id] = connected(registry, user, 1)
        # Shortened, yet long enough to outlast a cold start of the ping sandbox on a loaded machine.
        shortened = registry.ttl_s // 2
        registry._redis.expire(registry.user_key(user), shortened)
        registry._redis.expire(registry.connection_key(connection_id), shortened)
        client.send(json.dumps({"action": "ping"}))
        assert recv_json(client) == {"type": "pong"}
        assert registry._redis.ttl(registry.user_key(user)) > shortened
        assert registry._redis.ttl(registry.connection_key(connection_id)) > shortened


def test_ping_of_a_forgotten_connection_closes_it_so_the_client_reconnects(gateway, registry):
    user = user_id()
    with open_client(gateway, url=gateway.url("/local", token=token(user))) as client:
        [connection_id] = connected(registry, user, 1)
        registry._redis.delete(registry.connection_key(connection_id))  # as if its TTL ran out
        client.send(json.dumps({"action": "ping"}))
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=30)


def test_push_reaches_every_open_connection_of_the_user_only(gateway, registry, push_handler):
    user, other = user_id(), user_id()
    url = gateway.url("/local", token=token(user))
    with open_client(gateway, url=url) as first, open_client(gateway, url=url) as second, \
            open_client(gateway, url=gateway.url("/local", token=token(other))) as bystander:
        connected(registry, user, 2)
        connected(registry, other, 1)
        sent = [notification(user), timeline_updated(user)]
        assert invoke(push_handler, *(kafka_record(e) for e in sent)) == {"batchItemFailures": []}
        for client in (first, second):
            received = [recv_json(client), recv_json(client)]
            assert [(m["id"], m["type"], m["data"]) for m in received] == [
                (sent[0].id, sent[0].type, sent[0].data), (sent[1].id, sent[1].type, view_of(sent[1], user))]
        with pytest.raises(TimeoutError):
            bystander.recv(timeout=0.5)


def test_push_drops_connections_that_are_gone(gateway, registry, push_handler):
    user = user_id()
    stale = uuid.uuid4().hex  # registered, but the gateway has no such connection: GoneException
    registry.register(user, stale)
    with open_client(gateway, url=gateway.url("/local", token=token(user))) as client:
        connected(registry, user, 2)
        event = notification(user)
        assert invoke(push_handler, kafka_record(event)) == {"batchItemFailures": []}
        assert recv_json(client)["id"] == event.id
        assert stale not in registry.connections_of([user])[user]
        assert registry.user_of(stale) is None


def test_a_redelivered_event_is_pushed_again_not_lost(gateway, registry, push_handler):
    """Push is at-least-once: a retried record is sent again; clients dedupe by the envelope id."""
    user = user_id()
    with open_client(gateway, url=gateway.url("/local", token=token(user))) as client:
        connected(registry, user, 1)
        event = notification(user)
        invoke(push_handler, kafka_record(event))
        invoke(push_handler, kafka_record(event))
        assert recv_json(client)["id"] == recv_json(client)["id"] == event.id


def test_a_user_without_connections_is_a_no_op(registry, push_handler):
    assert invoke(push_handler, kafka_record(timeline_updated(user_id()))) == {"batchItemFailures": []}


def test_a_batch_reaches_many_users_in_order_per_connection(gateway, registry, push_handler):
    users = [user_id() for _ in range(5)]
    with ExitStack() as stack:
        clients = [stack.enter_context(open_client(gateway, url=gateway.url("/local", token=token(user))))
                   for user in users]
        for user in users:
            connected(registry, user, 1)
        # One partition's records, as the event source mapping sends them: three updates per user.
        sent = [timeline_updated(user) for user in users for _ in range(3)]
        assert invoke(push_handler, *(kafka_record(e) for e in sent)) == {"batchItemFailures": []}
        for user, client in zip(users, clients, strict=True):
            expected = [e.id for e in sent if str(user) in e.data["recipient_ids"]]
            assert [recv_json(client)["id"] for _ in expected] == expected


def test_a_record_that_is_not_an_event_is_diverted_and_the_rest_of_its_partition_is_pushed(
        gateway, registry, push_handler):
    user = user_id()
    with open_client(gateway, url=gateway.url("/local", token=token(user))) as client:
        connected(registry, user, 1)
        before, after = notification(user), notification(user)
        poison = kafka_record(b"not an event")._replace(topic="notification-events")  # the same partition
        reply = invoke(push_handler, kafka_record(before), poison, kafka_record(after))
        assert reply == {"batchItemFailures": []}  # it went to notification-events-failed (kafkagram.poison)
        assert [recv_json(client)["id"] for _ in range(2)] == [before.id, after.id]


def test_when_the_gateway_cannot_be_reached_the_batch_is_retried_from_its_first_event(
        gateway, registry, push_handler, sandbox):
    user = user_id()
    registry.register(user, uuid.uuid4().hex)
    sandbox.setenv("WEBSOCKET_ENDPOINT", f"http://127.0.0.1:{free_port()}/local")  # nothing listens there
    push.reset_management_api()
    first = kafka_record(notification(user))
    reply = invoke(push_handler, first, kafka_record(notification(user)))
    assert reply == {"batchItemFailures": [{"itemIdentifier": {
        "partition": f"{first.topic}-{first.partition}", "offset": first.offset}}]}
    assert registry.connections_of([user])[user]  # not taken for gone: only a 410 says that


def test_each_recipient_of_a_chunk_gets_its_own_view_and_nobody_elses_id(gateway, registry, push_handler):
    ada = user_id()
    bob = next(u for u in range(ada + 1, ada + 1000) if timeline_shard(u) == timeline_shard(ada))  # as fan-out chunks
    with open_client(gateway, url=gateway.url("/local", token=token(ada))) as ada_client, \
            open_client(gateway, url=gateway.url("/local", token=token(bob))) as bob_client:
        connected(registry, ada, 1)
        connected(registry, bob, 1)
        update = timeline_updated(ada, bob)
        assert invoke(push_handler, kafka_record(update)) == {"batchItemFailures": []}
        for user, client, other in ((ada, ada_client, bob), (bob, bob_client, ada)):
            frame = recv_json(client)
            assert (frame["id"], frame["version"], frame["data"]) == (update.id, 1, view_of(update, user))
            assert str(other) not in json.dumps(frame)


def test_a_version_1_record_still_in_the_topic_is_pushed_as_it_was(gateway, registry, push_handler):
    user = user_id()
    old = Event(type="timeline-updated", version=1, actor_id="1001",
                data={"user_id": str(user), "action": "added", "post_ids": ["3001"], "author_id": "1001"})
    with open_client(gateway, url=gateway.url("/local", token=token(user))) as client:
        connected(registry, user, 1)
        assert invoke(push_handler, kafka_record(old)) == {"batchItemFailures": []}
        frame = recv_json(client)
        assert (frame["id"], frame["version"], frame["data"]) == (old.id, 1, old.data)
