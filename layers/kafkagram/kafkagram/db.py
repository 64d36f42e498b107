"""PostgreSQL connections (pg8000, pure Python, so the layer needs no native build)."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

import pg8000.native


def connect(database_url: str) -> pg8000.native.Connection:
    url = urlparse(database_url)
    if url.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"DATABASE_URL must start with postgresql://, got {url.scheme}://")
    return pg8000.native.Connection(
        user=unquote(url.username or "postgres"),
        password=unquote(url.password) if url.password else None,
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        database=(url.path or "/postgres").lstrip("/") or "postgres",
        application_name="kafkagram",
    )
