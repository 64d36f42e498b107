"""Transparent streaming HTTP relay from the public front to the internal backend (moto or s3rver)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import aiohttp
from aiohttp import web
from yarl import URL

from emulator.s3.errors import XML_CONTENT_TYPE, S3Error, error_xml, internal_error, new_request_id

CHUNK_SIZE = 256 * 1024
# Per-connection headers (RFC 9110 7.6.1) a proxy must not forward; Expect is answered by
# the front itself (aiohttp sends 100 Continue), forwarding it would stall on moto.
HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "trailers", "transfer-encoding", "upgrade", "expect",
    }
)
# aiohttp would otherwise add these to the forwarded request; moto must see the client's own.
SKIP_AUTO_HEADERS = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})


def new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        auto_decompress=False,  # relay bodies byte for byte
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
    )


def forward_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], drop: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Headers minus hop-by-hop ones (and `drop`), duplicates and order kept; Host kept."""
    dropped = HOP_BY_HOP | {name.lower() for name in drop}
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(name, value) for name, value in items if name.lower() not in dropped]


def upstream_url(upstream: str, request: web.Request) -> URL:
    # raw_path: the request target exactly as sent (no re-quoting, no dot-segment cleanup).
    return URL(upstream + request.raw_path, encoded=True)


async def proxy(request: web.Request, session: aiohttp.ClientSession, upstream: str) -> web.StreamResponse:
    data = request.content if request.body_exists else None
    try:
        upstream_response = await session.request(
            request.method,
            upstream_url(upstream, request),
            headers=forward_headers(request.headers.items()),
            data=data,
            allow_redirects=False,
            skip_auto_headers=SKIP_AUTO_HEADERS,
        )
    except aiohttp.ClientConnectionError:
        return upstream_unreachable(request)
    async with upstream_response:
        return await relay(request, upstream_response)


async def relay(request: web.Request, upstream: aiohttp.ClientResponse) -> web.StreamResponse:
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    for name, value in forward_headers(upstream.headers.items()):
        response.headers.add(name, value)
    await response.prepare(request)
    async for chunk in upstream.content.iter_chunked(CHUNK_SIZE):
        await response.write(chunk)
    await response.write_eof()
    return response


def error_response(error: S3Error, request_id: str, method: str = "GET") -> web.Response:
    body = b"" if method == "HEAD" else error_xml(error, request_id)
    return web.Response(
        status=error.status,
        body=body,
        headers={"Content-Type": XML_CONTENT_TYPE, "x-amz-request-id": request_id},
    )


def upstream_unreachable(request: web.Request) -> web.Response:
    return error_response(internal_error(), new_request_id(), request.method)
