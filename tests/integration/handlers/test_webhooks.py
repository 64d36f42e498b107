"""Webhook delivery (handlers/webhooks.py, kafkagram.webhooks) against real PostgreSQL and a real local
HTTP receiver on a free port. Events come from the store's own writes (outbox rows), delivered in AWS's
Kafka invocation shape; the event source mapping's retries are further invocations with the same record."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers import webhooks as webhooks_handler
from kafkagram import webhooks
from kafkagram.clients import Clients
from kafkagram.db import connect, transaction
from kafkagram.events import Event, new_event
from kafkagram.store import follows, interactions
from kafkagram.store.models import User
from tests.integration.handlers.test_poison_records import read_topic
from tests.support.invocations import invoke, kafka_record
from tests.support.kafka import CLUSTER_ARN, create_topic, produce, running
from tests.support.repo import REPO
from tests.support.services import create_test_database
from tests.support.store import events, make_post, make_user
from tests.support.waiting import wait_for
from tests.support.webhook_receiver import Receiver, webhook_receiver

OK: dict[str, Any] = {"batchItemFailures": []}


@pytest.fixture
def function(sandbox: pytest.MonkeyPatch, database_url: str) -> Iterator[pytest.MonkeyPatch]:
    """The function's environment, with local webhooks allowed (the receiver is http on 127.0.0.1)."""
    sandbox.setenv(webhooks.ALLOW_LOCAL_ENV, "1")
    made = Clients(database_url)
    sandbox.setattr(webhooks_handler, "clients", made)
    yield sandbox
    made.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as started:
        yield started


def add_endpoint(db: Any, user: User, url: str, kinds: list[str] | None = None) -> tuple[webhooks.Endpoint, str]:
    with transaction(db):
        return webhooks.create_endpoint(db, user.id, url, kinds or list(webhooks.KINDS), webhooks.secret_box(),
                                        allow_local=True)


def followed(db: Any, follower: User, followee: User) -> Event:
    with transaction(db):
        assert follows.follow(db, follower.id, followee.id)
    return Event.model_validate(events(db, "user-followed", follower.id)[-1])


def attempts(db: Any, endpoint: webhooks.Endpoint) -> list[tuple[Any, ...]]:
    """(status code, error, delivery state) of every attempt to the endpoint, in order."""
    rows = db.run("SELECT a.status_code, a.error, d.state FROM webhook_attempts a "
                  "JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = :id "
                  "ORDER BY a.attempted_at, a.attempt", id=endpoint.id)
    return [tuple(row) for row in rows]


def failed(record: Any) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": {"partition": f"{record.topic}-{record.partition}",
                                                      "offset": record.offset}}]}


def test_a_follow_is_delivered_signed_with_the_endpoints_secret(db, function, receiver):
    owner, fan = make_user(db), make_user(db)
    endpoint, secret = add_endpoint(db, owner, receiver.url())
    event = followed(db, fan, owner)

    assert invoke(webhooks_handler.handler, kafka_record(event)) == OK

    [request] = receiver.received()
    assert request.path == "/hook"
    body = json.loads(request.body)
    assert body["type"] == "follow" and body["data"] == {"follower_id": str(fan.id)}
    assert body["event_id"] == event.id
    assert request.headers["x-kafkagram-delivery"] == body["id"] == webhooks.delivery_id(endpoint.id, event.id,
                                                                                        "follow")
    assert request.headers["x-kafkagram-event"] == "follow"
    assert request.headers["content-type"] == "application/json"
    signature = request.headers["x-kafkagram-signature"]
    assert webhooks.verify_signature(secret, signature, request.body)
    assert not webhooks.verify_signature(secret, signature, request.body + b" ")
    assert not webhooks.verify_signature("whsec_other", signature, request.body)
    # Stripe's scheme, checkable with nothing but hmac: t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<body>")
    timestamp = int(signature.split(",")[0].removeprefix("t="))
    assert abs(time.time() - timestamp) < 60
    assert signature == webhooks.signature(secret, timestamp, request.body)
    assert attempts(db, endpoint) == [(200, None, "delivered")]
    # The secret is stored sealed, never as written.
    [[sealed]] = db.run("SELECT secret_box FROM webhook_endpoints WHERE id = :id", id=endpoint.id)
    assert secret.encode() not in bytes(sealed)


def test_a_redelivered_event_is_sent_once_per_endpoint(db, function, receiver):
    owner, fan = make_user(db), make_user(db)
    first, _ = add_endpoint(db, owner, receiver.url("/a"))
    second, _ = add_endpoint(db, owner, receiver.url("/b"))
    record = kafka_record(followed(db, fan, owner))

    assert invoke(webhooks_handler.handler, record) == OK
    assert invoke(webhooks_handler.handler, record) == OK  # the redelivery
    assert invoke(webhooks_handler.handler, record, record) == OK  # and twice in one batch

    assert sorted(r.path for r in receiver.received()) == ["/a", "/b"]
    assert attempts(db, first) == attempts(db, second) == [(200, None, "delivered")]


def test_kinds_pause_and_self_actions_decide_who_gets_what(db, function, receiver):
    owner, fan = make_user(db), make_user(db)
    add_endpoint(db, owner, receiver.url("/likes"), ["like"])
    paused, _ = add_endpoint(db, owner, receiver.url("/paused"))
    with transaction(db):
        webhooks.update_endpoint(db, owner.id, paused.id, paused=True)
    post = make_post(db, owner.id)
    with transaction(db):
        assert interactions.like(db, fan.id, post.id)
        assert interactions.like(db, owner.id, post.id)  # one's own like: nothing
    liked = [Event.model_validate(e) for e in events(db, "like-given", post.id)]

    assert invoke(webhooks_handler.handler, kafka_record(followed(db, fan, owner)),
                  *[kafka_record(e) for e in liked]) == OK

    [request] = receiver.received()
    assert request.path == "/likes"
    assert json.loads(request.body)["data"] == {"post_id": str(post.id), "user_id": str(fan.id)}


def test_a_500_is_retried_by_the_mapping_and_endpoints_that_got_it_are_not_sent_it_again(db, function, receiver):
    owner, fan = make_user(db), make_user(db)
    flaky, _ = add_endpoint(db, owner, receiver.url("/flaky"))
    steady, _ = add_endpoint(db, owner, receiver.url("/steady"))
    record = kafka_record(followed(db, fan, owner))
    receiver.statuses[:] = [500, 200, 500]  # by arrival: the two endpoints are sent at once
    reply = invoke(webhooks_handler.handler, record)
    first_round = receiver.received()
    assert len(first_round) == 2 and reply == failed(record)
    got_500 = first_round[0].path  # the first to arrive got the 500
    failing = flaky if got_500 == "/flaky" else steady

    assert invoke(webhooks_handler.handler, record) == failed(record)  # the second 500
    assert invoke(webhooks_handler.handler, record) == OK  # then 200
    assert [r.path for r in receiver.received()].count(got_500) == 3
    assert len(receiver.received()) == 4  # the other endpoint once only
    assert attempts(db, failing) == [(500, "HTTP 500", "delivered"), (500, "HTTP 500", "delivered"),
                                     (200, None, "delivered")]
    ids = {r.headers["x-kafkagram-delivery"] for r in receiver.received() if r.path == got_500}
    assert len(ids) == 1  # every retry carries the same delivery id


def test_after_the_last_attempt_the_delivery_is_failed(db, function, receiver):
    owner, fan = make_user(db), make_user(db)
    endpoint, _ = add_endpoint(db, owner, receiver.url())
    record = kafka_record(followed(db, fan, owner))
    receiver.default_status = 503

    for _ in range(webhooks.MAX_ATTEMPTS):  # the first invocation and the mapping's retries
        assert invoke(webhooks_handler.handler, record) == failed(record)

    states = attempts(db, endpoint)
    assert [status for status, _, _ in states] == [503] * webhooks.MAX_ATTEMPTS
    assert {state for _, _, state in states} == {"failed"}
    # The mapping now sends the record to its kafka://<topic>-failed destination (template.yaml);
    # a redrive of it tries the delivery again, and a 2xx then marks it delivered.
    receiver.default_status = 204
    assert invoke(webhooks_handler.handler, record) == OK
    assert attempts(db, endpoint)[-1] == (204, None, "delivered")


def test_a_receiver_that_does_not_answer_times_out(db, function, receiver):
    function.setattr(webhooks, "TIMEOUT_S", 0.5)
    owner, fan = make_user(db), make_user(db)
    endpoint, _ = add_endpoint(db, owner, receiver.url())
    record = kafka_record(followed(db, fan, owner))
    receiver.hang = True

    started = time.monotonic()
    assert invoke(webhooks_handler.handler, record) == failed(record)

    assert time.monotonic() - started < 5
    [(status, error, state)] = attempts(db, endpoint)
    assert status is None and error == "timed out after 0.5 s" and state == "pending"


def test_a_huge_answer_is_cut_at_the_size_limit(receiver):
    receiver.huge_body_bytes = 200 * 1024 * 1024
    result = webhooks.send(receiver.url(), b"{}", {}, allow_local=True, timeout_s=5)
    assert result.status_code == 200 and result.ok
    assert result.duration_ms < 5000
    assert receiver.sent_bytes < receiver.huge_body_bytes  # it stopped reading and closed


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(receiver):
    """No DNS rebinding: the name is resolved once (here by a resolver the test controls), and the request
    goes to that address while Host still names the URL's host."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    result = webhooks.send(receiver.url(host="hooks.example.test"), b"{}", {}, allow_local=True, resolve=resolve)

    assert result.status_code == 200
    assert asked == ["hooks.example.test"]
    [request] = receiver.received()
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"


@pytest.mark.parametrize("url", [
    "https://127.0.0.1:{port}/hook",  # loopback
    "https://[::1]:{port}/hook",
    "https://[::ffff:127.0.0.1]:{port}/hook",  # IPv4-mapped loopback
    "https://169.254.169.254/latest/meta-data/",  # link-local: the cloud metadata service
    "https://10.0.0.7/hook",  # private
    "https://[64:ff9b::a00:7]/hook",  # NAT64 of 10.0.0.7
    "http://203.0.114.9/hook",  # http at all
])
def test_without_the_local_flag_private_addresses_are_refused_and_nothing_is_sent(db, function, receiver, url):
    owner, fan = make_user(db), make_user(db)
    endpoint, _ = add_endpoint(db, owner, url.format(port=receiver.port))  # as if it had been allowed once
    function.setenv(webhooks.ALLOW_LOCAL_ENV, "0")
    record = kafka_record(followed(db, fan, owner))

    assert invoke(webhooks_handler.handler, record) == failed(record)

    assert receiver.received() == []
    [(status, error, _)] = attempts(db, endpoint)
    assert status is None and error is not None and error.startswith("refused: ")


def test_a_ping_goes_to_its_endpoint_only_even_paused(db, function, receiver):
    owner = make_user(db)
    pinged, secret = add_endpoint(db, owner, receiver.url("/pinged"), ["like"])
    add_endpoint(db, owner, receiver.url("/other"))
    with transaction(db):
        webhooks.update_endpoint(db, owner.id, pinged.id, paused=True)
        ping = webhooks.request_ping(db, owner.id, pinged.id)

    assert invoke(webhooks_handler.handler, kafka_record(ping)) == OK

    [request] = receiver.received()
    assert request.path == "/pinged" and request.headers["x-kafkagram-event"] == "ping"
    assert json.loads(request.body)["data"] == {"endpoint_id": str(pinged.id)}
    assert webhooks.verify_signature(secret, request.headers["x-kafkagram-signature"], request.body)


def test_mentions_and_published_posts(db, function, receiver):
    author, mentioned = make_user(db), make_user(db)
    add_endpoint(db, author, receiver.url("/author"), ["post-published", "mention"])
    add_endpoint(db, mentioned, receiver.url("/mentioned"), ["mention"])
    post = make_post(db, author.id, caption=f"hello @{mentioned.username} and @{author.username}")
    created = {"post_id": str(post.id), "author_id": str(author.id), "caption": "hello",
               "media_ids": ["1"], "hashtags": [], "mentioned_user_ids": [str(mentioned.id), str(author.id)]}
    event = new_event("post-created", created, author.id)
    assert invoke(webhooks_handler.handler, kafka_record(event)) == OK

    by_path = {r.path: json.loads(r.body) for r in receiver.received()}
    assert set(by_path) == {"/author", "/mentioned"}  # the author is not told of mentioning themself
    assert by_path["/author"]["type"] == "post-published"
    assert by_path["/mentioned"]["type"] == "mention"
    assert by_path["/mentioned"]["data"]["user_id"] == str(author.id)


def test_under_the_runtime_the_last_retry_sends_the_record_to_the_failure_topic(
        tmp_path: Path, kafka_bootstrap: str, kafka_session_timeout_ms: int, unique: str,
        template_document: dict[str, Any]) -> None:
    """The real mapping settings of template.yaml (retries, filter, kafka:// destination) in the local
    runtime: an endpoint that always answers 500 gets MAX_ATTEMPTS attempts, then the record lands on the
    failure topic with Lambda's RetriesExhausted, and the delivery shows failed."""
    database_url = create_test_database("kafkagram_webhooks_esm")
    db = connect(database_url)
    topic = f"user-events-{unique}"
    for name in (topic, f"{topic}-failed"):
        create_topic(kafka_bootstrap, name)
    real = template_document["Resources"]["WebhooksFunction"]["Properties"]["Events"]["UserEvents"]["Properties"]
    properties = {**real, "Stream": CLUSTER_ARN, "Topics": [topic], "ConsumerGroupId": f"{unique}-webhooks",
                  "DestinationConfig": {"OnFailure": {"Destination": f"kafka://{topic}-failed"}}}
    template = tmp_path / "template.yaml"
    template.write_text(yaml.safe_dump({
        "AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {"Function": {"Runtime": "python3.11", "MemorySize": 512}},
        "Resources": {"Webhooks": {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": str(REPO / "handlers"), "Handler": "webhooks.handler", "Timeout": 30,
            "Environment": {"Variables": {"DATABASE_URL": database_url, webhooks.ALLOW_LOCAL_ENV: "true"}},
            "Events": {"UserEvents": {"Type": "MSK", "Properties": properties}}}}}}))
    try:
        with webhook_receiver() as receiver:
            receiver.default_status = 500
            owner, fan = make_user(db), make_user(db)
            endpoint, _ = add_endpoint(db, owner, receiver.url())
            event = followed(db, fan, owner)
            produce(kafka_bootstrap, topic, [event.to_dict()], key=str(fan.id).encode())
            with running(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
                wait_for(lambda: any(f["to_failure_destination"] >= 1 for f in runtime.status().values()),
                         timeout=120, message="the record on the failure topic")
            assert len(receiver.received()) == webhooks.MAX_ATTEMPTS
        [failure] = read_topic(kafka_bootstrap, f"{topic}-failed", 1)
        assert failure["requestContext"]["condition"] == "RetriesExhausted"
        [record] = failure["payload"]["records"][f"{topic}-0"]
        assert json.loads(base64.b64decode(record["value"]))["id"] == event.id
        assert [(s, st) for s, _, st in attempts(db, endpoint)] == [(500, "failed")] * webhooks.MAX_ATTEMPTS
    finally:
        db.close()
