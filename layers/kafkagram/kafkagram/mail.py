"""Email: the SMTP server of SMTP_URL, the notification and verification messages, and which kinds a
user wants emailed (the flow that sends them is `kafkagram.flows.notify_email`).

Preferences live in the user's private settings (users.settings, jsonb) under EMAIL_SETTINGS_KEY: the
list of kinds to email, e.g. {"email_notifications": ["comment", "follow"]}; [] turns email off. A user
who never chose gets DEFAULT_EMAIL_KINDS: comments, follows and mentions, not likes (the most frequent
kind and the one least worth an email).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from kafkagram.store.notifications import KINDS

EMAIL_SETTINGS_KEY = "email_notifications"
VERIFY_EMAIL_PATH = "/verify-email"  # the web app's page that confirms a token (frontend/src/app/router.tsx)
DEFAULT_EMAIL_KINDS: tuple[str, ...] = ("comment", "follow", "mention")
SMTP_TIMEOUT_S = 10.0  # a stuck server fails the record (and it is retried) well within the function's timeout
_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server (the record fails and is retried)."""


def email_kinds(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The kinds `settings` (users.settings) asks to email, in KINDS order; the defaults when unset.
    Unknown kinds (a value written by a newer version) are ignored."""
    chosen = settings.get(EMAIL_SETTINGS_KEY)
    if not isinstance(chosen, list):
        return DEFAULT_EMAIL_KINDS
    return tuple(kind for kind in KINDS if kind in chosen)


# --- SMTP -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes, from one URL: smtp:// (plain), smtp+starttls:// (STARTTLS required) or
    smtps:// (TLS from the first byte); user and password URL-quoted in the userinfo."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"SMTP_URL must be smtp://, smtp+starttls:// or smtps://host[:port], got {redact(url)}")
        return cls(scheme=parts.scheme, host=parts.hostname, port=parts.port or _DEFAULT_PORTS[parts.scheme],
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def send(self, message: EmailMessage) -> None:
        """Hand `message` to the server; MailError when it is not accepted for every recipient."""
        try:
            client: smtplib.SMTP
            if self.scheme == "smtps":
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT_S,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_S)
            with client:
                if self.scheme == "smtp+starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.username is not None:
                    client.login(self.username, self.password or "")
                refused = client.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"SMTP server {self} did not take the message: {error}") from error
        if refused:
            raise MailError(f"SMTP server {self} refused recipients {sorted(refused)}")


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=f"{parts.username}:***@{parts.hostname}"
                                 + (f":{parts.port}" if parts.port else "")).geturl()


# --- the message ------------------------------------------------------------------------------------

def message_id(notification_id: int, mail_from: str) -> str:
    """The same for every attempt at one group's email, so a duplicate can be recognised."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "kafkagram.localhost"
    return f"<notification-{notification_id}@{domain}>"


def build_message(*, to: str, mail_from: str, notification_id: int, line: str, web_origin: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = line
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(notification_id, mail_from)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    origin = web_origin.rstrip("/")
    message.set_content(f"{line}.\n\nSee it on kafkagram: {origin}/notifications\n\n"
                        "You get this email because email notifications of this kind are on for your account;\n"
                        "you can choose which kinds are emailed, or turn them all off, in your settings.\n")
    return message


def verification_link(web_origin: str, token: str) -> str:
    """The web app's page for the token, which it POSTs to /api/auth/verify-email. The token travels in
    the fragment, which browsers never send to a server (nor in a Referer)."""
    return f"{web_origin.rstrip('/')}{VERIFY_EMAIL_PATH}#token={quote(token, safe='')}"


def build_verification_message(*, to: str, mail_from: str, message_key: str, link: str) -> EmailMessage:
    """The "confirm your email" message; `message_key` makes its Message-ID (the same for every attempt)."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "kafkagram.localhost"
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = "Confirm your email address for kafkagram"
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<verify-{message_key}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("Welcome to kafkagram.\n\nConfirm that this is your email address by opening this link:\n\n"
                        f"{link}\n\nUntil then, kafkagram sends no notification emails to this address.\n"
                        "If you did not create a kafkagram account, ignore this email.\n")
    return message
