"""PostgreSQL connections (pg8000, pure Python, so the layer needs no native build).

TLS follows libpq's `sslmode` query parameter, so a `DATABASE_URL` means the same here as to psql:
absent or `disable` (local servers), `require` (encrypted, the server not verified), `verify-ca` and
`verify-full` (verified against the system's CAs, or the PEM file named by `sslrootcert`; `verify-full`
also checks the host name). RDS for PostgreSQL 15 and later refuses connections without TLS.
"""

from __future__ import annotations

import ssl
from urllib.parse import parse_qs, unquote, urlparse

import pg8000.native

SSL_MODES = ("disable", "require", "verify-ca", "verify-full")
_QUERY_PARAMETERS = {"sslmode", "sslrootcert"}


def connect(database_url: str) -> pg8000.native.Connection:
    url = urlparse(database_url)
    if url.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"DATABASE_URL must start with postgresql://, got {url.scheme}://")
    query = {name: values[-1] for name, values in parse_qs(url.query).items()}
    unknown = sorted(set(query) - _QUERY_PARAMETERS)
    if unknown:
        raise ValueError(f"DATABASE_URL has parameters this client does not read: {', '.join(unknown)} "
                         f"(supported: {', '.join(sorted(_QUERY_PARAMETERS))})")
    return pg8000.native.Connection(
        user=unquote(url.username or "postgres"),
        password=unquote(url.password) if url.password else None,
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        database=(url.path or "/postgres").lstrip("/") or "postgres",
        application_name="kafkagram",
        ssl_context=tls_context(query.get("sslmode", "disable"), query.get("sslrootcert")),
    )


def tls_context(sslmode: str, root_cert: str | None = None) -> ssl.SSLContext | None:
    """The TLS settings of one `sslmode` (None: plain TCP)."""
    if sslmode not in SSL_MODES:
        raise ValueError(f"DATABASE_URL sslmode must be one of {', '.join(SSL_MODES)}, got {sslmode!r}")
    if sslmode == "disable":
        return None
    context = ssl.create_default_context(cafile=root_cert)
    if sslmode != "verify-full":
        context.check_hostname = False
    if sslmode == "require":
        context.verify_mode = ssl.CERT_NONE
    return context
