"""Notification email: notification-created becomes one email to the recipient, for the kinds they
enabled (`kafkagram.mail.email_kinds`), through the SMTP server of SMTP_URL; and user-registered
becomes the email with the link that verifies the address (`email_verification_link`).

No notification is emailed to an address that has not been verified
(`kafkagram.store.email_verification`): an account registered with someone else's address cannot make
kafkagram mail that person, apart from the one verification email.

One email per notification group while it is unread: the group "ada and 3 others liked your post"
emails when it opens (its first notification-created); later actors joining it, and redeliveries of any
of its events, send nothing more. Reading the group closes it, so the next like opens a new group and
may email again. A group already read when its event arrives is not emailed (it was seen).

Idempotency: the marker `processed_events(CONSUMER, "notification:<id>")` is inserted, the email sent,
then the marker committed, in one transaction. SMTP failing rolls the marker back and the record fails,
so the event source mapping retries it; a normal redelivery finds the marker and sends nothing. Only a
crash (or a lost COMMIT) between the server accepting the message and the COMMIT sends it once more;
that copy has the same Message-ID (`kafkagram.mail.message_id`), which mail clients and many servers use
to drop duplicates. Two deliveries racing on one group are serialized by the marker's primary key (the
second waits for the first transaction, then finds the row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from kafkagram.db import Database
from kafkagram.events import USER_REGISTERED, Event
from kafkagram.events.reading import EventData, NotificationCreated, read_data
from kafkagram.idempotency import first_time
from kafkagram.mail import build_message, build_verification_message, email_kinds, verification_link
from kafkagram.store import NotFound
from kafkagram.store.email_verification import email_verified, issue_verification
from kafkagram.store.notifications import describe, get_notification
from kafkagram.store.users import get_user_by_id

CONSUMER = "notify-email"  # its name in processed_events

Send = Callable[[EmailMessage], None]


@dataclass(frozen=True)
class EmailOutcome:
    sent: bool
    # "sent", "kind-disabled", "unverified-email", "already-emailed", "already-read", "no-user",
    # "no-notification"; for verification links also "already-verified"
    reason: str
    notification_id: int | None = None


class UserRegistered(EventData):
    TYPES = (USER_REGISTERED,)
    user_id: int


def email_notification(database: Database, event: Event, send: Send, *, mail_from: str,
                       web_origin: str) -> EmailOutcome:
    """Email the recipient of a notification-created event if they want this kind (see the module)."""
    data = read_data(event, NotificationCreated)
    with database.transaction() as conn:
        try:
            user = get_user_by_id(conn, data.user_id)
        except NotFound:
            return EmailOutcome(False, "no-user", data.notification_id)
        if data.kind not in email_kinds(user.settings or {}):
            return EmailOutcome(False, "kind-disabled", data.notification_id)
        if not email_verified(conn, user.id):
            return EmailOutcome(False, "unverified-email", data.notification_id)
        try:
            notification = get_notification(conn, data.notification_id)
        except NotFound:
            return EmailOutcome(False, "no-notification", data.notification_id)
        if notification.read_at is not None:
            return EmailOutcome(False, "already-read", data.notification_id)
        if not first_time(conn, CONSUMER, f"notification:{data.notification_id}"):
            return EmailOutcome(False, "already-emailed", data.notification_id)
        send(build_message(to=user.email, mail_from=mail_from, notification_id=data.notification_id,
                           line=describe(notification), web_origin=web_origin))
    return EmailOutcome(True, "sent", data.notification_id)


def email_verification_link(database: Database, event: Event, send: Send, *, mail_from: str,
                            web_origin: str) -> EmailOutcome:
    """Email a new account's address the link that verifies it (user-registered). Idempotent as the
    notification emails are: the marker, the token row and the send share one transaction, so an SMTP
    failure leaves no token and the retry sends a fresh one."""
    data = read_data(event, UserRegistered)
    with database.transaction() as conn:
        if not first_time(conn, CONSUMER, f"verify:{event.id}"):
            return EmailOutcome(False, "already-emailed")
        try:
            link = issue_verification(conn, data.user_id)
        except NotFound:
            return EmailOutcome(False, "no-user")
        if link is None:
            return EmailOutcome(False, "already-verified")
        send(build_verification_message(to=link.email, mail_from=mail_from, message_key=event.id,
                                        link=verification_link(web_origin, link.token)))
    return EmailOutcome(True, "sent")
