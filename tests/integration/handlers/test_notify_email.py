"""Notification email (handlers/notify_email.py) against real PostgreSQL and a real SMTP server: the
sink `make up` starts (aiosmtpd), on a free port, storing each message it accepts as a .eml file.
Events come from the real notify flow (outbox rows), delivered in AWS's Kafka invocation shape."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from handlers import notify_email
from kafkagram.config import get_settings
from kafkagram.db import connect, transaction
from kafkagram.events import Event
from kafkagram.flows.notify import notify
from kafkagram.flows.notify_email import CONSUMER as EMAIL_CONSUMER
from kafkagram.mail import DEFAULT_EMAIL_KINDS, SmtpServer, email_kinds
from kafkagram.store import follows, interactions, notifications, users
from kafkagram.store.models import User
from kafkagram_local.services import SmtpSink
from tests.support.invocations import OK, invoke, kafka_record
from tests.support.services import free_port
from tests.support.store import events, make_post
from tests.support.store import make_user as make_unverified_user


def make_user(db: Any, prefix: str = "u") -> User:
    """A user whose address is verified: only those get notification emails (the unverified ones are
    test_notify_email_verification.py's)."""
    user = make_unverified_user(db, prefix)
    db.run("UPDATE users SET email_verified_at = now() WHERE id = :id", id=user.id)
    return user


def point_smtp_at(mailer: pytest.MonkeyPatch, url: str) -> None:
    mailer.setenv("SMTP_URL", url)
    get_settings.cache_clear()


def choose(db: Any, user: User, kinds: list[str]) -> None:
    users.update_settings(db, user.id, {"email_notifications": kinds})


def notification_events(action_event: dict[str, Any]) -> list[Event]:
    """Run the notify flow on an action's event; the notification-created events it emitted."""
    return notify(notify_email.clients.database, Event.model_validate(action_event))


def like(db: Any, user: User, post_id: int) -> Event:
    with transaction(db):
        assert interactions.like(db, user.id, post_id)
    [created] = notification_events(events(db, "like-given", post_id)[-1])
    return created


def follow(db: Any, follower: User, followee: User) -> Event:
    with transaction(db):
        follows.follow(db, follower.id, followee.id)
    [created] = notification_events(events(db, "user-followed", follower.id)[-1])
    return created


def received(sink: SmtpSink) -> list[EmailMessage]:
    return [message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for path in sink.messages()]


def marked(db: Any, notification_id: str) -> bool:
    return bool(db.run("SELECT 1 FROM processed_events WHERE consumer = :consumer AND event_id = :id",
                       consumer=EMAIL_CONSUMER, id=f"notification:{notification_id}"))


def test_one_event_delivered_twice_sends_one_email(db, mailer, sink):
    owner, fan = make_user(db), make_user(db)
    choose(db, owner, ["like"])
    post = make_post(db, owner.id)
    created = like(db, fan, post.id)
    record = kafka_record(created)

    assert invoke(notify_email.handler, record) == OK
    assert invoke(notify_email.handler, record) == OK  # the redelivery
    assert invoke(notify_email.handler, record, record) == OK  # and twice in one batch

    [message] = received(sink)
    notification_id = created.data["notification_id"]
    assert message["To"] == owner.email
    assert message["Subject"] == f"{fan.username} liked your post"
    assert message["Message-ID"] == f"<notification-{notification_id}@kafkagram.localhost>"
    assert message["From"] == get_settings().mail_from
    assert message["Auto-Submitted"] == "auto-generated"
    assert f"{fan.username} liked your post" in message.get_content()
    assert marked(db, notification_id)


def test_more_actors_in_an_unread_group_send_nothing_more_until_it_is_read(db, mailer, sink):
    owner = make_user(db)
    choose(db, owner, ["like"])
    post = make_post(db, owner.id)
    first, second = like(db, make_user(db), post.id), like(db, make_user(db), post.id)
    assert first.data["notification_id"] == second.data["notification_id"]  # one group

    assert invoke(notify_email.handler, kafka_record(first), kafka_record(second)) == OK
    assert len(received(sink)) == 1

    notifications.mark_read(db, owner.id)
    third = like(db, make_user(db), post.id)  # a new group
    assert third.data["notification_id"] != first.data["notification_id"]
    assert invoke(notify_email.handler, kafka_record(third)) == OK
    assert [m["Message-ID"] for m in received(sink)][1] == (
        f"<notification-{third.data['notification_id']}@kafkagram.localhost>")


def test_disabled_kinds_send_nothing(db, mailer, sink):
    owner, fan, follower = make_user(db), make_user(db), make_user(db)
    choose(db, owner, ["comment"])
    post = make_post(db, owner.id)
    liked, followed = like(db, fan, post.id), follow(db, follower, owner)

    assert invoke(notify_email.handler, kafka_record(liked), kafka_record(followed)) == OK

    assert received(sink) == []
    # Nothing is marked either: enabling the kind later still emails the group's next event.
    assert not marked(db, liked.data["notification_id"])


def test_email_off_entirely(db, mailer, sink):
    owner, follower = make_user(db), make_user(db)
    choose(db, owner, [])
    assert invoke(notify_email.handler, kafka_record(follow(db, follower, owner))) == OK
    assert received(sink) == []


def test_a_user_who_never_chose_gets_the_defaults(db, mailer, sink):
    owner, fan, follower = make_user(db), make_user(db), make_user(db)
    assert "email_notifications" not in users.get_user_by_id(db, owner.id).settings
    assert DEFAULT_EMAIL_KINDS == ("comment", "follow", "mention")
    post = make_post(db, owner.id)
    liked, followed = like(db, fan, post.id), follow(db, follower, owner)

    assert invoke(notify_email.handler, kafka_record(liked), kafka_record(followed)) == OK

    [message] = received(sink)  # the follow; likes are off by default
    assert message["Subject"] == f"{follower.username} started following you"
    assert message["To"] == owner.email


def test_a_group_already_read_is_not_emailed(db, mailer, sink):
    owner, follower = make_user(db), make_user(db)
    created = follow(db, follower, owner)
    notifications.mark_read(db, owner.id)
    assert invoke(notify_email.handler, kafka_record(created)) == OK
    assert received(sink) == []


def test_smtp_down_fails_the_record_and_marks_nothing(db, mailer, sink):
    owner, follower = make_user(db), make_user(db)
    created = follow(db, follower, owner)
    record = kafka_record(created)
    point_smtp_at(mailer, f"smtp://127.0.0.1:{free_port()}")  # nothing listens there

    reply = invoke(notify_email.handler, record)

    assert reply == {"batchItemFailures": [{"itemIdentifier": {"partition": f"{record.topic}-{record.partition}",
                                                               "offset": record.offset}}]}
    assert not marked(db, created.data["notification_id"])
    assert received(sink) == []

    # The event source mapping retries the record; SMTP is back: the email goes out, once.
    point_smtp_at(mailer, sink.url)
    assert invoke(notify_email.handler, record) == OK
    assert invoke(notify_email.handler, record) == OK
    assert len(received(sink)) == 1
    assert marked(db, created.data["notification_id"])


def test_records_after_a_failure_in_the_partition_wait_for_its_retry(db, mailer, sink):
    owner, first_follower, second_follower = make_user(db), make_user(db), make_user(db)
    first, second = follow(db, first_follower, owner), follow(db, second_follower, owner)
    point_smtp_at(mailer, f"smtp://127.0.0.1:{free_port()}")
    records = [kafka_record(first), kafka_record(second)]
    reply = invoke(notify_email.handler, *records)
    assert [f["itemIdentifier"]["offset"] for f in reply["batchItemFailures"]] == [records[0].offset]
    assert received(sink) == []  # the second is not tried before the first: no email out of order


def test_email_kinds_reads_the_settings():
    assert email_kinds({}) == DEFAULT_EMAIL_KINDS
    assert email_kinds({"email_notifications": None}) == DEFAULT_EMAIL_KINDS
    assert email_kinds({"email_notifications": []}) == ()
    # In KINDS order; unknown kinds (a newer version's) ignored.
    assert email_kinds({"email_notifications": ["mention", "like", "reel"]}) == ("like", "mention")


def test_smtp_urls():
    assert SmtpServer.from_url("smtp://127.0.0.1:2525") == SmtpServer("smtp", "127.0.0.1", 2525)
    assert SmtpServer.from_url("smtps://ses%2Buser:p%40ss@email-smtp.eu-west-1.amazonaws.com") == SmtpServer(
        "smtps", "email-smtp.eu-west-1.amazonaws.com", 465, "ses+user", "p@ss")
    assert SmtpServer.from_url("smtp+starttls://mail.example.org").port == 587
    with pytest.raises(ValueError, match="SMTP_URL"):
        SmtpServer.from_url("http://mail.example.org")


def test_the_database_connection_survives_a_failed_record(db, mailer, sink, database_url):
    """A failed record discards the sandbox's connection (it may be mid-transaction); the next works."""
    owner, follower = make_user(db), make_user(db)
    created = follow(db, follower, owner)
    point_smtp_at(mailer, f"smtp://127.0.0.1:{free_port()}")
    assert invoke(notify_email.handler, kafka_record(created))["batchItemFailures"]
    point_smtp_at(mailer, sink.url)
    assert invoke(notify_email.handler, kafka_record(created)) == OK
    probe = connect(database_url)
    try:
        # No transaction left open by the failed attempt (it would hold the marker's lock).
        assert probe.run("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                         "AND state = 'idle in transaction'")[0][0] == 0
    finally:
        probe.close()
