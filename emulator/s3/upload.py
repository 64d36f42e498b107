"""Browser-form POST object uploads: S3's POST-policy checks in front of the backend.

moto and s3rver store whatever a form POST sends (no signature, expiration, condition or
size checks), and moto answers with an empty body even for success_action_status=201; this
handler enforces the policy, forwards an accepted form to the backend, and writes S3's own
response. It also answers CORS preflights from the bucket's rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit, urlunsplit
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web

from emulator.s3.cors import CorsCache, CorsRule, parse_cors_configuration, preflight_rule, response_headers
from emulator.s3.errors import (
    XML_CONTENT_TYPE,
    S3Error,
    entity_too_large,
    internal_error,
    new_request_id,
)
from emulator.s3.form import MAX_FILE_SIZE, PRE_DATA_LIMIT, FilePart, FormReader, encode_form
from emulator.s3.policy import check_size, expand_filename, field_values, validate_fields
from emulator.s3.proxy import SKIP_AUTO_HEADERS, error_response, forward_headers, upstream_url

# Whole-body bound: the largest file plus the form fields and some multipart framing.
MAX_BODY_SIZE = MAX_FILE_SIZE + PRE_DATA_LIMIT + 1024**2
# Fields that only shape S3's response; the front answers them itself.
RESPONSE_FIELDS = frozenset({"success_action_status", "success_action_redirect", "redirect"})
_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


@dataclass(frozen=True)
class UploadTarget:
    bucket: str
    virtual_host: bool  # bucket named by the Host header rather than the path


def form_upload_target(request: web.Request) -> UploadTarget | None:
    """The bucket of a POST-object form upload, or None for any other request."""
    if request.method != "POST" or request.content_type != "multipart/form-data":
        return None
    path = request.raw_path.split("?", 1)[0]
    if _virtual_hosted(request.host):
        bucket = request.host.split(".", 1)[0]
        return UploadTarget(bucket, True) if path in ("", "/") else None
    bucket = path.strip("/")
    return UploadTarget(bucket, False) if bucket and "/" not in bucket else None


def preflight_target(request: web.Request) -> str | None:
    """The bucket a CORS preflight (OPTIONS on a bucket or an object) is about, else None."""
    if request.method != "OPTIONS":
        return None
    path = request.raw_path.split("?", 1)[0]
    if _virtual_hosted(request.host):
        return request.host.split(".", 1)[0]
    bucket = path.lstrip("/").split("/", 1)[0]
    return bucket or None


def _virtual_hosted(host: str) -> bool:
    # Same split as moto's S3Response.subdomain_based_buckets, so both agree on the bucket.
    if host.startswith("["):
        return False
    name = host.split(":", 1)[0]
    if "." not in name or _IPV4.fullmatch(name):
        return False
    local = name.startswith(("localhost", "localstack", "host.docker.internal"))
    return not (local or name.endswith(".svc.cluster.local"))


class FormUploads:
    def __init__(
        self, session: aiohttp.ClientSession, upstream: str, credentials: Mapping[str, str]
    ) -> None:
        self._session = session
        self._upstream = upstream
        self._credentials = dict(credentials)
        self._cors = CorsCache(self._fetch_cors)

    async def handle(self, request: web.Request, target: UploadTarget) -> web.Response:
        request_id = new_request_id()
        try:
            response = await self._upload(request, target, request_id)
        except S3Error as error:
            response = error_response(error, request_id)
        # Without these a browser cannot read the result, error or not.
        origin = request.headers.get("Origin")
        response.headers.update(await self._cors.headers_for(target.bucket, origin, "POST"))
        return response

    async def preflight(self, request: web.Request, bucket: str) -> web.Response:
        """S3's answer to an OPTIONS request, from the bucket's CORS rules."""
        request_id = new_request_id()
        origin = request.headers.get("Origin")
        method = request.headers.get("Access-Control-Request-Method")
        asked = request.headers.get("Access-Control-Request-Headers", "")
        headers = [name.strip().lower() for name in asked.split(",") if name.strip()]
        rules = await self._cors.rules(bucket) if origin and method else []
        rule = preflight_rule(rules, origin, method, headers) if origin and method else None
        if not origin:
            error = S3Error(400, "BadRequest", CORS_NO_ORIGIN)
        elif not method:
            error = S3Error(400, "BadRequest", "Invalid Access-Control-Request-Method: null")
        elif not rules:
            error = S3Error(403, "AccessForbidden", CORS_NOT_ENABLED)
        elif rule is None:
            error = S3Error(403, "AccessForbidden", CORS_NOT_ALLOWED)
        else:
            allowed = response_headers(rule, origin)
            if headers:
                allowed["Access-Control-Allow-Headers"] = ", ".join(headers)
            return web.Response(status=200, headers={**allowed, "x-amz-request-id": request_id})
        return error_response(error, request_id)

    async def _upload(self, request: web.Request, target: UploadTarget, request_id: str) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY_SIZE:
            raise entity_too_large(request.content_length, MAX_FILE_SIZE)
        reader = FormReader(request)
        try:
            fields = await reader.read_fields()
            assert reader.file is not None
            fields = expand_filename(fields, reader.file.filename)
            policy = validate_fields(fields, target.bucket, self._credentials, datetime.now(UTC))
            limit = MAX_FILE_SIZE if policy.max_size is None else min(policy.max_size, MAX_FILE_SIZE)
            file = await reader.read_file(limit)
            check_size(policy, file.size)
            return await self._store(request, target, fields, file, request_id)
        finally:
            if reader.file is not None:
                reader.file.close()

    async def _store(
        self,
        request: web.Request,
        target: UploadTarget,
        fields: Sequence[tuple[str, str]],
        file: FilePart,
        request_id: str,
    ) -> web.Response:
        forwarded = [(n, v) for n, v in fields if n.lower() not in RESPONSE_FIELDS]
        content_type, length, body = encode_form(forwarded, file)
        headers = forward_headers(
            request.headers.items(), drop=("content-length", "content-type", "content-encoding")
        )
        headers += [("Content-Type", content_type), ("Content-Length", str(length))]
        try:
            async with self._session.post(
                upstream_url(self._upstream, request),
                headers=headers,
                data=body,
                allow_redirects=False,
                skip_auto_headers=SKIP_AUTO_HEADERS,
            ) as stored:
                if stored.status >= 300:
                    return await _relay_failure(stored)
        except aiohttp.ClientConnectionError:
            raise internal_error() from None
        return success_response(request, target, field_values(fields), file, request_id)

    async def _fetch_cors(self, bucket: str) -> list[CorsRule]:
        url = f"{self._upstream}/{quote(bucket)}?cors"
        try:
            async with self._session.get(url) as response:
                if response.status != 200:
                    return []  # NoSuchCORSConfiguration / NoSuchBucket: nothing allowed
                return parse_cors_configuration(await response.read())
        except aiohttp.ClientError:
            return []


# S3's preflight refusals.
CORS_NO_ORIGIN = "Insufficient information. Origin request header needed."
CORS_NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
CORS_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
    "whitelisted by the resource's CORS spec."
)


async def _relay_failure(stored: aiohttp.ClientResponse) -> web.Response:
    # The backend's own error (e.g. NoSuchBucket): small XML, passed on unchanged.
    headers = forward_headers(stored.headers.items(), drop=("content-length",))
    return web.Response(status=stored.status, body=await stored.read(), headers=headers)


def success_response(
    request: web.Request,
    target: UploadTarget,
    values: Mapping[str, str],
    file: FilePart,
    request_id: str,
) -> web.Response:
    """S3's answer to a stored upload: redirect, 201 PostResponse XML, or empty 200/204."""
    key = values["key"]
    etag = f'"{file.md5.hexdigest()}"'
    location = _object_location(request, target, key)
    headers = {"ETag": etag, "Location": location, "x-amz-request-id": request_id}
    redirect = _redirect_location(values, target.bucket, key, etag)
    if redirect is not None:
        return web.Response(status=303, headers={**headers, "Location": redirect})
    status = values.get("success_action_status")
    if status == "201":
        body = _post_response_xml(location, target.bucket, key, etag)
        return web.Response(status=201, body=body, headers={**headers, "Content-Type": XML_CONTENT_TYPE})
    # S3: 200 or 204 as asked; unset or any other value gives 204.
    return web.Response(status=200 if status == "200" else 204, headers=headers)


def _object_location(request: web.Request, target: UploadTarget, key: str) -> str:
    path = quote(key, safe="/~")
    base = f"{request.scheme}://{request.host}"
    return f"{base}/{path}" if target.virtual_host else f"{base}/{quote(target.bucket)}/{path}"


def _redirect_location(values: Mapping[str, str], bucket: str, key: str, etag: str) -> str | None:
    url = values.get("success_action_redirect") or values.get("redirect")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None  # S3 ignores a redirect it cannot interpret
    added = urlencode([("bucket", bucket), ("key", key), ("etag", etag)])
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


def _post_response_xml(location: str, bucket: str, key: str, etag: str) -> bytes:
    elements = {"Location": location, "Bucket": bucket, "Key": key, "ETag": etag}
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in elements.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>{inner}</PostResponse>'.encode()
