"""Notification email (issue 4, handler 6): notification-created -> an email to the recipient, for the
kinds they enabled, through SMTP_URL (locally the sink `make up` starts).

The logic is `kafkagram.mail.email_notification` (preferences, one email per unread notification
group, the idempotency marker); `handle_batch` decodes the batch and reports the first failed record of
each partition (ReportBatchItemFailures), so an SMTP outage retries the record.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from kafkagram import flows, mail
from kafkagram.config import get_settings
from kafkagram.events import Event
from kafkagram.handlers_common import handle_batch

logger = Logger()
resources = flows.Resources()  # the database connection, made at the first record


def on_notification(event: Event) -> None:
    settings = get_settings()
    outcome = mail.email_notification(resources.connection(), event, mail.SmtpServer.from_url(settings.smtp_url).send,
                                      mail_from=settings.mail_from, web_origin=settings.web_origin)
    logger.info(event.type, extra={"event_id": event.id, "notification_id": outcome.notification_id,
                                   "sent": outcome.sent, "reason": outcome.reason})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, {mail.NOTIFICATION_CREATED: on_notification}, logger,
                        on_failure=resources.discard_connection)
