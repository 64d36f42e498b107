"""Webhooks: a user's own HTTPS endpoints get their account's events as signed JSON (docs/webhooks.md).

Endpoints (`create_endpoint`, `list_endpoints`, `update_endpoint`, `delete_endpoint`) belong to one user;
every function that names an endpoint also takes its owner, so another user's endpoint is NotFound.

Secrets: each endpoint signs with its own secret (`whsec_...`), shown once at creation. It must be kept
so that it can sign, so it is stored encrypted (`SecretBox`: AES-256-GCM under a key from settings,
WEBHOOK_SECRET_KEY locally or the Secrets Manager secret WEBHOOK_KEY_SECRET_ARN on AWS, with the
endpoint's id as associated data so a ciphertext copied to another row does not open).

Signing (Stripe's scheme): `X-Kafkagram-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed with the secret>`; `verify_signature` is what a receiver runs.

Delivery (`deliver_event`, run by handlers/webhooks.py): one delivery per (endpoint, event, kind), whose
id is a UUID derived from the three (`X-Kafkagram-Delivery`: receivers deduplicate on it). A delivery that
does not get a 2xx leaves the record failed, so the event source mapping retries it with its back-off;
deliveries that succeeded are not sent again. After the mapping's last retry the record goes to its
kafka://<topic>-failed destination and the delivery shows `failed` (MAX_ATTEMPTS attempts). Every
attempt is recorded (status code, duration, error). At least once: a crash after the receiver answered
but before the attempt was recorded sends it again, with the same delivery id.

No server-side request forgery (`resolve_target`, `refused_address`): the host is resolved once, every
address it resolves to must be public (not private, loopback, link-local, multicast, unspecified,
reserved, nor one of those behind IPv4-mapped, NAT64 or 6to4 forms), and the connection goes to that
checked address (the name is only sent as Host and TLS SNI, so a second DNS answer cannot change where
it goes). HTTPS only, no redirects followed, TIMEOUT_S for the whole exchange, at most
MAX_RESPONSE_BYTES of the answer read. KAFKAGRAM_ALLOW_LOCAL_WEBHOOKS=1 (local development and tests
only: `kafkagram up --allow-local-webhooks`) allows http and local addresses.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import secrets
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

import pg8000.native

from kafkagram.auth.tokens import running_on_aws
from kafkagram.config import LOCAL_WEBHOOK_SECRET_KEY, get_settings
from kafkagram.db import Database
from kafkagram.events import COMMENT_ADDED, LIKE_GIVEN, POST_CREATED, USER_FOLLOWED, Event, new_event
from kafkagram.events.catalog import WEBHOOK_PING
from kafkagram.events.reading import EventData, UnexpectedEvent, read_data
from kafkagram.outbox import enqueue, require_transaction
from kafkagram.store.errors import Invalid, NotFound

# --- what a user may subscribe to -----------------------------------------------------------------------

FOLLOW, LIKE, COMMENT, MENTION, POST_PUBLISHED, PING = "follow", "like", "comment", "mention", "post-published", "ping"
KINDS = (FOLLOW, LIKE, COMMENT, MENTION, POST_PUBLISHED)  # what an endpoint may choose; pings always go
Kind = Literal["follow", "like", "comment", "mention", "post-published"]
# The catalogue's event types the function reads (its FilterCriteria in template.yaml).
EVENT_TYPES = (USER_FOLLOWED, LIKE_GIVEN, COMMENT_ADDED, POST_CREATED, WEBHOOK_PING)

MAX_ENDPOINTS_PER_USER = 10
URL_MAX_LENGTH = 2048
TIMEOUT_S = 5.0  # the whole exchange: connect, TLS, request, status and headers, body
MAX_RESPONSE_BYTES = 64 * 1024  # read at most this much of an answer, then close
# Attempts of one delivery: the first, then the event source mapping's MaximumRetryAttempts (template.yaml;
# tests/unit/layer/test_webhooks.py checks they agree). The attempt that reaches it marks the delivery failed.
MAX_ATTEMPTS = 5
CONCURRENCY = 8  # deliveries of one event sent at once (a post may mention 20 people)
SIGNATURE_TOLERANCE_S = 300  # verify_signature's default: older signatures are replays

SIGNATURE_HEADER = "X-Kafkagram-Signature"
DELIVERY_HEADER = "X-Kafkagram-Delivery"
EVENT_HEADER = "X-Kafkagram-Event"
USER_AGENT = "kafkagram-webhooks/1"
SECRET_PREFIX = "whsec_"
# Delivery ids: UUID v5 of "<endpoint>:<event>:<kind>" in this namespace, so a redelivery gets the same id.
DELIVERY_NAMESPACE = uuid.UUID("6f1c1f3e-9a53-4f6e-a8e4-1c0c5b8f2d11")
# Local development and tests only: http and local addresses allowed (the template defaults it to false).
ALLOW_LOCAL_ENV = "KAFKAGRAM_ALLOW_LOCAL_WEBHOOKS"


def allow_local_webhooks() -> bool:
    """Read at each use (tests turn it on and off)."""
    return os.environ.get(ALLOW_LOCAL_ENV, "").strip().lower() in ("1", "true", "yes")


def secret_box() -> SecretBox:
    """The box of the key from settings (WEBHOOK_SECRET_KEY, or on AWS the secret WEBHOOK_KEY_SECRET_ARN
    names; the local default is refused there)."""
    return _box(get_settings().webhook_secret_key)


@lru_cache(maxsize=2)
def _box(key: str) -> SecretBox:
    if key == LOCAL_WEBHOOK_SECRET_KEY and running_on_aws():
        raise RuntimeError("WEBHOOK_SECRET_KEY is the local-development default; set WEBHOOK_KEY_SECRET_ARN")
    return SecretBox(key)


class SecretBox:
    """Encrypts endpoint secrets at rest: AES-256-GCM, key = SHA-256 of the configured key text (any string
    of 32 characters or more), a random 96-bit nonce per secret, the endpoint id as associated data."""

    VERSION = b"\x01"

    def __init__(self, key_text: str) -> None:
        if len(key_text) < 32:
            raise ValueError("the webhook secret key must have at least 32 characters")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(hashlib.sha256(b"kafkagram webhook secrets\x00" + key_text.encode()).digest())

    def seal(self, endpoint_id: int, secret: str) -> bytes:
        nonce = os.urandom(12)
        return self.VERSION + nonce + self._aead.encrypt(nonce, secret.encode(), _aad(endpoint_id))

    def open(self, endpoint_id: int, sealed: bytes) -> str:
        if sealed[:1] != self.VERSION:
            raise ValueError("unknown webhook secret format")
        return self._aead.decrypt(sealed[1:13], sealed[13:], _aad(endpoint_id)).decode()


def _aad(endpoint_id: int) -> bytes:
    return f"webhook-endpoint:{endpoint_id}".encode()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# --- signatures -----------------------------------------------------------------------------------------

def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Kafkagram-Signature value of `body` sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance_s: float = SIGNATURE_TOLERANCE_S,
                     now: float | None = None) -> bool:
    """What a receiver checks: some v1 matches (constant-time) and t is recent (no replays)."""
    parts = [item.partition("=") for item in header.split(",")]
    timestamps = [value for name, _, value in parts if name.strip() == "t"]
    candidates = [value.strip() for name, _, value in parts if name.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit() or not candidates:
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body).partition(",v1=")[2]
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


# --- addresses and URLs (no server-side request forgery) ------------------------------------------------

class RefusedTarget(Exception):
    """A URL or address webhooks may not reach."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def refused_address(address: IPAddress) -> str | None:
    """Why `address` may not be reached from the delivery function, or None for a public address. IPv6
    forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by that address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = None
        form = ""
        if address.ipv4_mapped is not None:
            embedded, form = address.ipv4_mapped, "IPv4-mapped"
        elif address in _NAT64:
            embedded, form = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
        elif address.sixtofour is not None:
            embedded, form = address.sixtofour, "6to4"
        elif address.teredo is not None or address in _NAT64_LOCAL:
            return "a tunnelling address"
        if embedded is not None:
            reason = refused_address(embedded)
            return None if reason is None else f"{reason} ({form})"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "not globally routable"
    return None


def check_url(url: str, *, allow_local: bool) -> str:
    """The URL if webhooks may be registered for it (the API's check); RefusedTarget says why not. Only its
    shape and literal addresses: the name is resolved and checked at every delivery (`resolve_target`)."""
    if len(url) > URL_MAX_LENGTH:
        raise RefusedTarget(f"the URL is longer than {URL_MAX_LENGTH} characters")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise RefusedTarget("the URL may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedTarget(f"not a URL: {error}") from None
    schemes = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in schemes:
        raise RefusedTarget("the URL must start with https://")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise RefusedTarget("the URL may not contain credentials")
    host = parts.hostname
    if not host:
        raise RefusedTarget("the URL has no host")
    if parts.fragment:
        raise RefusedTarget("the URL may not have a #fragment")
    if port == 0:
        raise RefusedTarget("the URL's port is not valid")
    if not allow_local:
        if host == "localhost" or host.endswith(".localhost"):
            raise RefusedTarget("the URL points to this machine (localhost)")
        literal = _literal_address(host)
        if literal is not None and (reason := refused_address(literal)) is not None:
            raise RefusedTarget(f"the URL's address is {reason}")
    return url


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written: the Host header and TLS SNI
    port: int
    address: str  # the checked address the connection goes to
    path: str  # path and query


Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_target(url: str, *, allow_local: bool, resolve: Resolver = system_resolver) -> Target:
    """Where a delivery to `url` connects: every address the name resolves to must be allowed (an answer
    mixing a public and a private address is refused), and the first is pinned."""
    check_url(url, allow_local=allow_local)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except OSError as error:
        raise RefusedTarget(f"cannot resolve {host}: {error}") from None
    if not addresses:
        raise RefusedTarget(f"{host} has no address")
    if not allow_local:
        for text in addresses:
            reason = refused_address(ipaddress.ip_address(text.split("%")[0]))
            if reason is not None:
                raise RefusedTarget(f"{host} resolves to {text}, which is {reason}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, addresses[0], path)


# --- sending ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; Host names the URL's host."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address; Host and TLS SNI (and the certificate check) name the URL's host."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


Sender = Callable[[str, bytes, dict[str, str]], AttemptResult]


def send(url: str, body: bytes, headers: dict[str, str], *, allow_local: bool | None = None,
         resolve: Resolver = system_resolver, timeout_s: float | None = None,
         max_response_bytes: int = MAX_RESPONSE_BYTES) -> AttemptResult:
    """POST `body` to `url` once, within `timeout_s` in all (a timer closes the socket at the deadline, so
    a server dripping bytes cannot hold the function), reading at most `max_response_bytes` of the answer.
    Redirects are answers like any other (not followed: a 3xx is not a success)."""
    allow = allow_local_webhooks() if allow_local is None else allow_local
    timeout_s = TIMEOUT_S if timeout_s is None else timeout_s
    started = time.monotonic()

    def result(status: int | None, error: str | None) -> AttemptResult:
        return AttemptResult(status, int((time.monotonic() - started) * 1000), error)

    try:
        target = resolve_target(url, allow_local=allow, resolve=resolve)
    except RefusedTarget as refused:
        return result(None, f"refused: {refused}")
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout_s, _tls_context()) if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout_s))
    expired = threading.Event()

    def abort() -> None:
        expired.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, timeout_s - (time.monotonic() - started)), abort)
    timer.daemon = True
    timer.start()
    try:
        connection.request("POST", target.path, body=body, headers={
            **headers, "Content-Type": "application/json", "User-Agent": USER_AGENT, "Connection": "close"})
        response = connection.getresponse()
        response.read(max_response_bytes)  # then discarded, with whatever followed
        if expired.is_set():
            return result(None, f"timed out after {timeout_s:g} s")
        return result(response.status, None if 200 <= response.status < 300 else f"HTTP {response.status}")
    except (OSError, http.client.HTTPException) as error:
        if expired.is_set() or isinstance(error, TimeoutError):
            return result(None, f"timed out after {timeout_s:g} s")
        return result(None, f"{type(error).__name__}: {error}"[:300])
    finally:
        timer.cancel()
        connection.close()


# --- endpoints (the API) --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    id: int
    user_id: int
    url: str
    kinds: list[str]
    paused: bool
    created_at: datetime
    updated_at: datetime


_ENDPOINT_COLUMNS = "id, user_id, url, kinds, paused, created_at, updated_at"


def _endpoint(row: Sequence[Any]) -> Endpoint:
    return Endpoint(int(row[0]), int(row[1]), row[2], list(row[3]), bool(row[4]), row[5], row[6])


def _kinds(kinds: Sequence[str]) -> list[str]:
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise Invalid("invalid-kind", f"unknown event kinds: {', '.join(unknown)}")
    if not kinds:
        raise Invalid("invalid-kind", "choose at least one event kind")
    return sorted(set(kinds), key=KINDS.index)


def create_endpoint(conn: pg8000.native.Connection, user_id: int, url: str, kinds: Sequence[str],
                    box: SecretBox, *, allow_local: bool) -> tuple[Endpoint, str]:
    """A new endpoint of the user's, and its secret (returned this once; only its sealed form is kept)."""
    require_transaction(conn, "create_endpoint")
    try:
        check_url(url, allow_local=allow_local)
    except RefusedTarget as refused:
        raise Invalid("invalid-url", str(refused)) from None
    chosen = _kinds(kinds)
    # The user's row is locked so that two requests cannot both pass the cap.
    if not conn.run("SELECT 1 FROM users WHERE id = :id FOR UPDATE", id=user_id):
        raise NotFound("user-not-found", "no such user")
    [[count]] = conn.run("SELECT count(*) FROM webhook_endpoints WHERE user_id = :id", id=user_id)
    if count >= MAX_ENDPOINTS_PER_USER:
        raise Invalid("too-many-webhooks", f"at most {MAX_ENDPOINTS_PER_USER} webhook endpoints per account")
    [[endpoint_id]] = conn.run("SELECT next_id()")
    secret = new_secret()
    [row] = conn.run(f"INSERT INTO webhook_endpoints (id, user_id, url, kinds, secret_box) "
                     f"VALUES (:id, :user, :url, CAST(:kinds AS text[]), :box) RETURNING {_ENDPOINT_COLUMNS}",
                     id=endpoint_id, user=user_id, url=url, kinds=chosen, box=box.seal(endpoint_id, secret))
    return _endpoint(row), secret


def list_endpoints(conn: pg8000.native.Connection, user_id: int) -> list[Endpoint]:
    rows = conn.run(f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE user_id = :user ORDER BY id",
                    user=user_id)
    return [_endpoint(row) for row in rows]


def get_endpoint(conn: pg8000.native.Connection, user_id: int, endpoint_id: int) -> Endpoint:
    rows = conn.run(f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = :id AND user_id = :user",
                    id=endpoint_id, user=user_id)
    if not rows:
        raise NotFound("webhook-not-found", "no such webhook endpoint")
    return _endpoint(rows[0])


def update_endpoint(conn: pg8000.native.Connection, user_id: int, endpoint_id: int, *,
                    kinds: Sequence[str] | None = None, paused: bool | None = None) -> Endpoint:
    rows = conn.run(f"UPDATE webhook_endpoints SET kinds = COALESCE(CAST(:kinds AS text[]), kinds), "
                    f"paused = COALESCE(CAST(:paused AS boolean), paused), updated_at = now() "
                    f"WHERE id = :id AND user_id = :user RETURNING {_ENDPOINT_COLUMNS}",
                    kinds=None if kinds is None else _kinds(kinds), paused=paused, id=endpoint_id, user=user_id)
    if not rows:
        raise NotFound("webhook-not-found", "no such webhook endpoint")
    return _endpoint(rows[0])


def delete_endpoint(conn: pg8000.native.Connection, user_id: int, endpoint_id: int) -> None:
    """Its deliveries and attempts go with it; a delivery under way finds it gone and sends nothing more."""
    conn.run("DELETE FROM webhook_endpoints WHERE id = :id AND user_id = :user", id=endpoint_id, user=user_id)
    if not conn.row_count:
        raise NotFound("webhook-not-found", "no such webhook endpoint")


def request_ping(conn: pg8000.native.Connection, user_id: int, endpoint_id: int) -> Event:
    """A webhook-ping event, through the outbox: the ping travels the path every delivery takes."""
    require_transaction(conn, "request_ping")
    get_endpoint(conn, user_id, endpoint_id)
    event = new_event(WEBHOOK_PING, {"user_id": str(user_id), "endpoint_id": str(endpoint_id)}, user_id)
    enqueue(conn, event)
    return event


@dataclass(frozen=True)
class Attempt:
    attempt: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None


@dataclass(frozen=True)
class Delivery:
    id: str
    event_id: str
    kind: str
    state: str
    created_at: datetime
    attempts: list[Attempt]


def recent_deliveries(conn: pg8000.native.Connection, user_id: int, endpoint_id: int,
                      limit: int = 20) -> list[Delivery]:
    """The endpoint's last `limit` deliveries, newest first, each with its attempts (oldest first)."""
    get_endpoint(conn, user_id, endpoint_id)
    rows = conn.run(
        "SELECT d.id::text, d.event_id, d.kind, d.state, d.created_at, "
        "COALESCE(json_agg(json_build_object('attempt', a.attempt, 'attempted_at', a.attempted_at, "
        "'status_code', a.status_code, 'duration_ms', a.duration_ms, 'error', a.error) ORDER BY a.attempt) "
        "FILTER (WHERE a.attempt IS NOT NULL), '[]') "
        "FROM (SELECT * FROM webhook_deliveries WHERE endpoint_id = :id ORDER BY created_at DESC, id LIMIT :limit) d "
        "LEFT JOIN webhook_attempts a ON a.delivery_id = d.id "
        "GROUP BY d.id, d.event_id, d.kind, d.state, d.created_at ORDER BY d.created_at DESC, d.id",
        id=endpoint_id, limit=limit)
    return [Delivery(row[0], row[1], row[2], row[3], row[4],
                     [Attempt(a["attempt"], datetime.fromisoformat(a["attempted_at"]), a["status_code"],
                              a["duration_ms"], a["error"]) for a in row[5]])
            for row in rows]


# --- delivering events (the function) -------------------------------------------------------------------

class _Follow(EventData):
    TYPES = (USER_FOLLOWED,)
    follower_id: int
    followee_id: int


class _Like(EventData):
    TYPES = (LIKE_GIVEN,)
    post_id: int
    post_author_id: int
    user_id: int


class _Comment(EventData):
    TYPES = (COMMENT_ADDED,)
    comment_id: int
    post_id: int
    post_author_id: int
    user_id: int
    text: str
    mentioned_user_ids: list[int]


class _Post(EventData):
    TYPES = (POST_CREATED,)
    post_id: int
    author_id: int
    caption: str
    mentioned_user_ids: list[int]


class _Ping(EventData):
    TYPES = (WEBHOOK_PING,)
    user_id: int
    endpoint_id: int


@dataclass(frozen=True)
class Interest:
    """One user to tell about an event: the kind, and the webhook payload's `data`."""

    user_id: int
    kind: str
    data: dict[str, Any]


def interests(event: Event) -> list[Interest]:
    """Who hears of `event`, as what: never of their own action (as notifications)."""
    found: list[Interest] = []
    if event.type == USER_FOLLOWED:
        follow = read_data(event, _Follow)
        found.append(Interest(follow.followee_id, FOLLOW, {"follower_id": str(follow.follower_id)}))
    elif event.type == LIKE_GIVEN:
        like = read_data(event, _Like)
        if like.user_id != like.post_author_id:
            found.append(Interest(like.post_author_id, LIKE, {"post_id": str(like.post_id),
                                                              "user_id": str(like.user_id)}))
    elif event.type == COMMENT_ADDED:
        comment = read_data(event, _Comment)
        ids = {"post_id": str(comment.post_id), "comment_id": str(comment.comment_id),
               "user_id": str(comment.user_id)}
        if comment.user_id != comment.post_author_id:
            found.append(Interest(comment.post_author_id, COMMENT, {**ids, "text": comment.text}))
        found.extend(Interest(user, MENTION, {**ids, "text": comment.text})
                     for user in dict.fromkeys(comment.mentioned_user_ids) if user != comment.user_id)
    elif event.type == POST_CREATED:
        post = read_data(event, _Post)
        ids = {"post_id": str(post.post_id), "user_id": str(post.author_id)}
        found.append(Interest(post.author_id, POST_PUBLISHED, {"post_id": str(post.post_id),
                                                               "caption": post.caption}))
        found.extend(Interest(user, MENTION, {**ids, "comment_id": None, "text": post.caption})
                     for user in dict.fromkeys(post.mentioned_user_ids) if user != post.author_id)
    elif event.type == WEBHOOK_PING:
        ping = read_data(event, _Ping)
        found.append(Interest(ping.user_id, PING, {"endpoint_id": str(ping.endpoint_id)}))
    else:
        raise UnexpectedEvent(f"webhooks do not read {event.type} events (event {event.id})", event.id)
    return found


def delivery_id(endpoint_id: int, event_id: str, kind: str) -> str:
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{endpoint_id}:{event_id}:{kind}"))


def payload(delivery: str, kind: str, event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """The JSON a receiver gets (docs/webhooks.md; the OpenAPI document's `webhooks`)."""
    return {"id": delivery, "type": kind, "created_at": event.to_dict()["occurred_at"], "event_id": event.id,
            "data": data}


class DeliveriesPending(RuntimeError):
    """Some delivery of the event got no 2xx: the record fails, and the mapping retries it."""


@dataclass(frozen=True)
class _Claimed:
    delivery_id: str
    endpoint_id: int
    url: str
    secret_box: bytes
    kind: str
    body: bytes
    attempts: int


@dataclass(frozen=True)
class DeliveryOutcome:
    delivered: int  # 2xx this time
    failed: int  # no 2xx this time (the event is retried)
    skipped: int  # delivered before (a redelivery)


# The event's deliveries still to send. Two invocations with the same record (a rebalance) may both send
# one: at least once, and the receiver deduplicates on the delivery id.
_TO_SEND = """
SELECT d.id::text, e.id, e.url, e.secret_box, d.kind, d.payload::text, d.attempts
FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
WHERE d.id = ANY(CAST(:ids AS uuid[])) AND d.state <> 'delivered'
ORDER BY d.id
"""


def deliver_event(database: Database, event: Event, *, box: SecretBox | None = None, sender: Sender | None = None,
                  now: Callable[[], float] = time.time) -> DeliveryOutcome:
    """Deliver `event` to every endpoint that wants it (see the module). Raises DeliveriesPending when one
    got no 2xx (after recording the attempt), so the record is retried; UnexpectedEvent for unreadable data."""
    wanted = interests(event)
    send_one = sender or send
    with database.transaction() as conn:
        planned = _plan(conn, event, wanted)
        claimed = [_Claimed(row[0], int(row[1]), row[2], bytes(row[3]), row[4], row[5].encode(), int(row[6]))
                   for row in conn.run(_TO_SEND, ids=[item[0] for item in planned])] if planned else []
    opener = box or secret_box()

    def attempt(item: _Claimed) -> AttemptResult:
        try:
            secret = opener.open(item.endpoint_id, item.secret_box)
        except Exception as error:  # a key that does not open it (rotated without re-sealing): recorded, retried
            return AttemptResult(None, 0, f"cannot open the endpoint's secret: {type(error).__name__}")
        headers = {SIGNATURE_HEADER: signature(secret, int(now()), item.body), DELIVERY_HEADER: item.delivery_id,
                   EVENT_HEADER: item.kind}
        return send_one(item.url, item.body, headers)

    if len(claimed) > 1:
        with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(claimed))) as pool:
            results = list(pool.map(attempt, claimed))
    else:
        results = [attempt(item) for item in claimed]
    with database.transaction() as conn:
        for item, result in zip(claimed, results, strict=True):
            number = item.attempts + 1
            state = "delivered" if result.ok else ("failed" if number >= MAX_ATTEMPTS else "pending")
            conn.run("INSERT INTO webhook_attempts (delivery_id, attempt, status_code, duration_ms, error) "
                     "SELECT CAST(:id AS uuid), CAST(:attempt AS integer), CAST(:status AS integer), "
                     "CAST(:duration AS integer), CAST(:error AS text) "
                     "WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = CAST(:id AS uuid)) "
                     "ON CONFLICT DO NOTHING",
                     id=item.delivery_id, attempt=number, status=result.status_code, duration=result.duration_ms,
                     error=result.error)
            conn.run("UPDATE webhook_deliveries SET attempts = :attempt, state = :state, updated_at = now() "
                     "WHERE id = CAST(:id AS uuid)", id=item.delivery_id, attempt=number,
                     state=state)
    failed = sum(1 for result in results if not result.ok)
    outcome = DeliveryOutcome(len(results) - failed, failed, len(planned) - len(claimed))
    if failed:
        raise DeliveriesPending(f"{failed} of {len(results)} webhook deliveries of event {event.id} got no 2xx")
    return outcome


def _plan(conn: pg8000.native.Connection, event: Event, wanted: list[Interest]) -> list[tuple[str, int]]:
    """Insert the event's deliveries (once: their ids are derived); returns (delivery id, endpoint id) of
    each one this event has."""
    if not wanted:
        return []
    users = sorted({interest.user_id for interest in wanted})
    rows = conn.run("SELECT id, user_id, kinds, paused FROM webhook_endpoints WHERE user_id = ANY(CAST(:users AS "
                    "bigint[]))", users=users)
    planned: list[tuple[str, int, str, str]] = []
    for interest in wanted:
        for endpoint_id, user_id, kinds, paused in rows:
            if user_id != interest.user_id:
                continue
            if interest.kind == PING:
                if str(endpoint_id) != interest.data["endpoint_id"]:
                    continue  # a ping goes to its endpoint, paused or not, whatever its kinds
            elif paused or interest.kind not in kinds:
                continue
            identifier = delivery_id(endpoint_id, event.id, interest.kind)
            body = json.dumps(payload(identifier, interest.kind, event, interest.data), separators=(",", ":"))
            planned.append((identifier, int(endpoint_id), interest.kind, body))
    if planned:
        conn.run("INSERT INTO webhook_deliveries (id, endpoint_id, event_id, kind, payload) "
                 "SELECT CAST(i AS uuid), e, :event, k, CAST(p AS jsonb) "
                 "FROM unnest(CAST(:ids AS text[]), CAST(:endpoints AS bigint[]), CAST(:kinds AS text[]), "
                 "CAST(:payloads AS text[])) AS t(i, e, k, p) ON CONFLICT (id) DO NOTHING",
                 event=event.id, ids=[p[0] for p in planned], endpoints=[p[1] for p in planned],
                 kinds=[p[2] for p in planned], payloads=[p[3] for p in planned])
    return [(p[0], p[1]) for p in planned]

