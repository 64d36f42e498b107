"""PostgreSQL sessions: connecting (pg8000, pure Python, so the layer needs no native build), the one
transaction helper, and the sandbox's long-lived connection.

    database = Database()                       # one per sandbox (module level in a function)
    with database.transaction() as conn:        # BEGIN ... COMMIT, ROLLBACK on any error
        store.posts.delete_post(conn, post_id, user_id)

`Database` keeps one connection across invocations (a connection costs a TLS handshake and an
authentication) and replaces it when it died while the sandbox was frozen: PostgreSQL, a proxy or a
NAT closes idle connections, and only BEGIN is retried on a new one, since repeating work that already
ran could apply it twice. `transaction(conn)` is the same BEGIN/COMMIT/ROLLBACK on a connection the
caller owns (scripts, tests).

Each transaction also notes what it changed (`changes(conn)`): the store reports the posts a write
changed, so a cache of them can be cleared once, after COMMIT (`functions/api/deps.write`).

TLS follows libpq's `sslmode` query parameter, so a `DATABASE_URL` means the same here as to psql:
absent or `disable` (local servers), `require` (encrypted, the server not verified), `verify-ca` and
`verify-full` (verified against the CA bundle named by `sslrootcert`, else `DATABASE_CA_BUNDLE`, else
the system's CAs; `verify-full` also checks the host name). On AWS only `verify-full` with a CA bundle
is accepted: `require` encrypts without checking who answers, and Lambda's system CAs do not include
RDS's (the template points DATABASE_CA_BUNDLE at the RDS global bundle in the layer, docs/deploy.md).
"""

from __future__ import annotations

import logging
import os
import ssl
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias, TypeVar
from urllib.parse import parse_qs, unquote, urlparse

import pg8000.exceptions
import pg8000.native

from kafkagram.auth.tokens import running_on_aws
from kafkagram.config import get_settings

Connection: TypeAlias = pg8000.native.Connection
T = TypeVar("T")
Work: TypeAlias = Callable[[Connection], T]  # what runs on a connection: a read, or the body of a transaction
logger = logging.getLogger(__name__)

SSL_MODES = ("disable", "require", "verify-ca", "verify-full")
_QUERY_PARAMETERS = {"sslmode", "sslrootcert"}
# What a dead connection raises: pg8000 wraps socket errors in InterfaceError; a server that went away
# mid-read can also surface as a bare OSError.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (pg8000.exceptions.InterfaceError, OSError)


class InsecureDatabaseTls(ValueError):
    """The database connection would not verify the server where it must (on AWS): refuse to connect."""


def connect(database_url: str, ca_bundle: str | None = None,
            environ: Mapping[str, str] = os.environ) -> Connection:
    """A connection for `database_url`. Verify modes check the server against the URL's `sslrootcert`,
    else `ca_bundle`, else the settings' DATABASE_CA_BUNDLE (so every caller, the outbox relay's LISTEN
    connection included, verifies the same way)."""
    url = urlparse(database_url)
    if url.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"DATABASE_URL must start with postgresql://, got {url.scheme}://")
    query = {name: values[-1] for name, values in parse_qs(url.query).items()}
    unknown = sorted(set(query) - _QUERY_PARAMETERS)
    if unknown:
        raise ValueError(f"DATABASE_URL has parameters this client does not read: {', '.join(unknown)} "
                         f"(supported: {', '.join(sorted(_QUERY_PARAMETERS))})")
    sslmode = query.get("sslmode", "disable")
    root_cert = query.get("sslrootcert") or ca_bundle or get_settings().database_ca_bundle
    if running_on_aws(environ):
        require_verified_tls(sslmode, root_cert)
    return pg8000.native.Connection(
        user=unquote(url.username or "postgres"),
        password=unquote(url.password) if url.password else None,
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        database=(url.path or "/postgres").lstrip("/") or "postgres",
        application_name="kafkagram",
        ssl_context=tls_context(sslmode, root_cert),
    )


def require_verified_tls(sslmode: str, root_cert: str | None) -> None:
    """On AWS: TLS that checks the server's certificate and host name against a CA bundle, or nothing."""
    if sslmode != "verify-full":
        raise InsecureDatabaseTls(
            f"DATABASE_URL has sslmode={sslmode}: on AWS the database connection must use sslmode=verify-full "
            "(TLS verifying the server's certificate and host name against the RDS CA bundle); `require` "
            "encrypts without checking who answers. Set sslmode=verify-full and DATABASE_CA_BUNDLE.")
    if not root_cert:
        raise InsecureDatabaseTls(
            "sslmode=verify-full on AWS needs the RDS CA bundle: set DATABASE_CA_BUNDLE (or sslrootcert) to "
            "its path; Lambda's system CAs do not include RDS's (docs/deploy.md, TLS)")


def tls_context(sslmode: str, root_cert: str | None = None) -> ssl.SSLContext | None:
    """The TLS settings of one `sslmode` (None: plain TCP). With `root_cert`, that bundle is the only
    trust anchor (the system's CAs are not loaded)."""
    if sslmode not in SSL_MODES:
        raise ValueError(f"DATABASE_URL sslmode must be one of {', '.join(SSL_MODES)}, got {sslmode!r}")
    if sslmode == "disable":
        return None
    if root_cert is not None and not Path(root_cert).is_file():
        raise ValueError(f"the database CA bundle {root_cert} does not exist (DATABASE_CA_BUNDLE or sslrootcert; "
                         "`make deploy` downloads the RDS bundle into the layer)")
    context = ssl.create_default_context(cafile=root_cert)
    if sslmode != "verify-full":
        context.check_hostname = False
    if sslmode == "require":
        context.verify_mode = ssl.CERT_NONE
    return context


def close_quietly(connection: Connection | None) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:  # already broken: nothing to release
            logger.debug("closing a broken database connection", exc_info=True)


# --- transactions -------------------------------------------------------------------------------------

@dataclass
class Changes:
    """What one transaction changed that a cache may hold (filled by the store, read before COMMIT)."""

    posts: set[int] = field(default_factory=set)


_changes: weakref.WeakKeyDictionary[Connection, Changes] = weakref.WeakKeyDictionary()


def changes(conn: Connection) -> Changes:
    """The changes of the transaction open on `conn` (a fresh record outside `transaction`)."""
    return _changes.setdefault(conn, Changes())


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """BEGIN ... COMMIT on `conn` (an early return inside commits what was done), ROLLBACK on any error."""
    conn.run("BEGIN")
    with _committed(conn):
        yield conn


@contextmanager
def _committed(conn: Connection, on_dead: Callable[[], None] | None = None) -> Iterator[None]:
    """The body of an open transaction: COMMIT after it, ROLLBACK if it raised. `on_dead` runs when the
    connection itself failed (the transaction died with it: nothing was committed)."""
    _changes[conn] = Changes()
    try:
        yield
    except BaseException:
        try:
            conn.run("ROLLBACK")
        except CONNECTION_ERRORS:
            if on_dead is not None:
                on_dead()
        raise
    try:
        conn.run("COMMIT")
    except CONNECTION_ERRORS:
        if on_dead is not None:
            on_dead()
        raise


class Database:
    """The sandbox's connection: made on first use, kept across invocations, replaced when it died.

    The URL is read at first use (by default from the settings), not at import: handler modules make
    their Database at import, before a test (or `sam local --env-vars`) has set the environment. A
    changed URL (tests) gets a new connection."""

    def __init__(self, url: str | Callable[[], str] | None = None) -> None:
        self._url = url
        self._current: tuple[str, Connection] | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            return get_settings().database_url
        return self._url if isinstance(self._url, str) else self._url()

    def connection(self) -> Connection:
        url = self.url
        if self._current is None or self._current[0] != url:
            self.discard()
            self._current = (url, connect(url))
        return self._current[1]

    def discard(self) -> None:
        """Forget the connection (broken, or mid-transaction after a failure): the next use reconnects."""
        if self._current is not None:
            close_quietly(self._current[1])
            self._current = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """BEGIN ... COMMIT on the sandbox's connection; only BEGIN is retried, once, on a new connection."""
        try:
            conn = self.connection()
            conn.run("BEGIN")
        except CONNECTION_ERRORS:
            self.discard()
            conn = self.connection()
            conn.run("BEGIN")
        with _committed(conn, on_dead=self.discard):
            yield conn

    def read(self, work: Work[T]) -> T:
        """Run read-only `work` in autocommit; retried once on a new connection if the old one was dead
        (safe: a read has no effect to repeat). Writes belong in `transaction()`: the store refuses them here."""
        try:
            return work(self.connection())
        except CONNECTION_ERRORS:
            self.discard()
            return work(self.connection())

    def close(self) -> None:
        self.discard()
