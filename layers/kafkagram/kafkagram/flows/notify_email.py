"""Notification email: notification-created becomes one email to the recipient, for the kinds they
enabled (`kafkagram.mail.email_kinds`), through the SMTP server of SMTP_URL.

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
from kafkagram.events import Event
from kafkagram.events.reading import NotificationCreated, read_data
from kafkagram.idempotency import first_time
from kafkagram.mail import build_message, email_kinds
from kafkagram.store import NotFound
from kafkagram.store.notifications import describe, get_notification
from kafkagram.store.users import get_user_by_id

CONSUMER = "notify-email"  # its name in processed_events

Send = Callable[[EmailMessage], None]


@dataclass(frozen=True)
class EmailOutcome:
    sent: bool
    reason: str  # "sent", "kind-disabled", "already-emailed", "already-read", "no-user", "no-notification"
    notification_id: int | None = None


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
