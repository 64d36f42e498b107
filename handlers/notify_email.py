"""Notification email: notification-created -> an email to the recipient, for the kinds they enabled,
through SMTP_URL (locally the sink `make up` starts); user-registered -> the email with the link that
verifies the address. Logic: `kafkagram.flows.notify_email`; an SMTP outage fails the record, which
the event source mapping retries."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram.batches import handle_batch
from kafkagram.clients import Clients
from kafkagram.config import get_settings
from kafkagram.events import NOTIFICATION_CREATED, USER_REGISTERED, Event
from kafkagram.flows.notify_email import email_notification, email_verification_link
from kafkagram.mail import SmtpServer
from kafkagram.observability import metrics

logger = Logger()
clients = Clients()  # the database connection, made at the first record


def on_notification(event: Event) -> None:
    settings = get_settings()
    outcome = email_notification(clients.database, event, SmtpServer.from_url(settings.smtp_url).send,
                                 mail_from=settings.mail_from, web_origin=settings.web_origin)
    logger.info(event.type, extra={"event_id": event.id, "notification_id": outcome.notification_id,
                                   "sent": outcome.sent, "reason": outcome.reason})


def on_registered(event: Event) -> None:
    settings = get_settings()
    outcome = email_verification_link(clients.database, event, SmtpServer.from_url(settings.smtp_url).send,
                                      mail_from=settings.mail_from, web_origin=settings.web_origin)
    logger.info(event.type, extra={"event_id": event.id, "sent": outcome.sent, "reason": outcome.reason})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, {NOTIFICATION_CREATED: on_notification, USER_REGISTERED: on_registered},
                        logger, clients.database)
