"""Issue 12 in the notification handlers, against real PostgreSQL and a real SMTP server (the sink
`make up` starts, on a free port): user-registered mails the link that verifies the address; no
notification is emailed to an unverified address; and mention notifications are capped per
(recipient, author) in kafkagram.flows.notify."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote

from handlers import notify, notify_email
from kafkagram.config import get_settings
from kafkagram.db import transaction
from kafkagram.events import Event
from kafkagram.flows.notify import MENTIONS_PER_AUTHOR_PER_WINDOW
from kafkagram.flows.notify_email import email_notification
from kafkagram.store import follows, interactions
from kafkagram.store.email_verification import email_verified, verify_email
from kafkagram.store.models import User
from kafkagram_local.services import SmtpSink
from tests.support.invocations import OK, invoke, kafka_record
from tests.support.store import events, make_post, make_user

LINK = re.compile(r"(http://\S+)/verify-email#token=(\S+)")


def received(sink: SmtpSink) -> list[EmailMessage]:
    return [message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for path in sink.messages()]


def registered(db: Any, user: User) -> dict[str, Any]:
    [event] = events(db, "user-registered", user.id)
    return event


def token_of(message: EmailMessage) -> str:
    found = LINK.search(message.get_content())
    assert found, message.get_content()
    assert found.group(1) == "http://127.0.0.1:3999"
    return unquote(found.group(2))


def test_registration_mails_a_link_that_verifies_the_address_once(db, mailer, sink):
    ada = make_user(db)
    record = kafka_record(registered(db, ada))
    assert invoke(notify_email.handler, record) == OK
    assert invoke(notify_email.handler, record) == OK  # a redelivery sends nothing more

    [message] = received(sink)
    assert message["To"] == ada.email
    assert message["Subject"] == "Confirm your email address for kafkagram"
    assert message["Message-ID"].startswith("<verify-")
    assert not email_verified(db, ada.id)
    # Only the token's hash is stored: the database holds no working link.
    token = token_of(message)
    [[stored]] = db.run("SELECT token_hash FROM email_verifications WHERE user_id = :id", id=ada.id)
    assert token.encode() not in bytes(stored)

    with transaction(db):
        assert verify_email(db, token).user_id == ada.id
    assert email_verified(db, ada.id)


def test_an_already_verified_address_gets_no_second_link(db, mailer, sink):
    ada = make_user(db)
    db.run("UPDATE users SET email_verified_at = now() WHERE id = :id", id=ada.id)
    assert invoke(notify_email.handler, kafka_record(registered(db, ada))) == OK
    assert received(sink) == []


def follow_notification(db: Any, follower: User, followee: User) -> Event:
    with transaction(db):
        follows.follow(db, follower.id, followee.id)
    assert invoke(notify.handler, kafka_record(events(db, "user-followed", follower.id)[-1])) == OK
    return Event.model_validate(events(db, "notification-created", followee.id)[-1])


def test_no_notification_is_emailed_to_an_unverified_address(db, mailer, sink):
    ada, bob, cy = make_user(db), make_user(db), make_user(db)
    followed = follow_notification(db, bob, ada)  # follows are emailed by default

    outcome = email_notification(notify_email.clients.database, followed, lambda _: None,
                                 mail_from=get_settings().mail_from, web_origin=get_settings().web_origin)
    assert (outcome.sent, outcome.reason) == (False, "unverified-email")
    assert invoke(notify_email.handler, kafka_record(followed)) == OK
    assert received(sink) == []

    # Once she follows the link, the next notification is emailed.
    assert invoke(notify_email.handler, kafka_record(registered(db, ada))) == OK
    [link] = received(sink)
    with transaction(db):
        verify_email(db, token_of(link))
    db.run("UPDATE notifications SET read_at = now() WHERE recipient_id = :id", id=ada.id)  # a new group
    assert invoke(notify_email.handler, kafka_record(follow_notification(db, cy, ada))) == OK
    assert [m["Subject"] for m in received(sink)][1] == f"{cy.username} started following you"


def mention_notifications(db: Any, recipient: User, author: User | None = None) -> int:
    query = ("SELECT count(*) FROM notifications n JOIN notification_actors a ON a.notification_id = n.id "
             "WHERE n.recipient_id = :recipient AND n.kind = 'mention'")
    if author is None:
        return int(db.run(query, recipient=recipient.id)[0][0])
    return int(db.run(query + " AND a.actor_id = :actor", recipient=recipient.id, actor=author.id)[0][0])


def mention_in_posts(db: Any, author: User, recipient: User, count: int) -> list[dict[str, Any]]:
    posts = [make_post(db, author.id, caption=f"look @{recipient.username} #{i}") for i in range(count)]
    return [events(db, "post-created", post.id)[-1] for post in posts]


def test_mention_notifications_are_capped_per_author_and_recipient(db, mailer):
    spammer, other, ada = make_user(db), make_user(db), make_user(db)
    flood = mention_in_posts(db, spammer, ada, MENTIONS_PER_AUTHOR_PER_WINDOW + 3)
    assert invoke(notify.handler, *(kafka_record(event) for event in flood)) == OK
    assert mention_notifications(db, ada, spammer) == MENTIONS_PER_AUTHOR_PER_WINDOW
    # A redelivery adds nothing, and the cap is per author: someone else still reaches her.
    assert invoke(notify.handler, *(kafka_record(event) for event in flood)) == OK
    assert invoke(notify.handler, *(kafka_record(e) for e in mention_in_posts(db, other, ada, 1))) == OK
    assert mention_notifications(db, ada) == MENTIONS_PER_AUTHOR_PER_WINDOW + 1
    emitted = events(db, "notification-created", ada.id)
    assert len(emitted) == MENTIONS_PER_AUTHOR_PER_WINDOW + 1  # the dropped ones emitted nothing either

    # An hour later the author may mention her again.
    db.run("UPDATE notifications SET created_at = created_at - interval '61 minutes' "
           "WHERE recipient_id = :id AND kind = 'mention'", id=ada.id)
    db.run("UPDATE notification_actors SET created_at = created_at - interval '61 minutes' "
           "WHERE actor_id = :id", id=spammer.id)
    assert invoke(notify.handler, *(kafka_record(e) for e in mention_in_posts(db, spammer, ada, 1))) == OK
    assert mention_notifications(db, ada, spammer) == MENTIONS_PER_AUTHOR_PER_WINDOW + 1


def test_mentions_in_comments_count_towards_the_same_cap(db, mailer):
    spammer, owner, ada = make_user(db), make_user(db), make_user(db)
    post = make_post(db, owner.id)
    for i in range(MENTIONS_PER_AUTHOR_PER_WINDOW + 2):
        with transaction(db):
            interactions.add_comment(db, spammer.id, post.id, f"@{ada.username} hey {i}")
    added = events(db, "comment-added", post.id)
    assert invoke(notify.handler, *(kafka_record(event) for event in added)) == OK
    assert mention_notifications(db, ada, spammer) == MENTIONS_PER_AUTHOR_PER_WINDOW
