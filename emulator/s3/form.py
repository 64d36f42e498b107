"""Bounded streaming read of a browser POST form, and its re-encoding for moto.

Text fields before the file are kept in memory (S3 caps them at 20 KB); the file part is
streamed into a spooled temporary file, so only small uploads stay in RAM. Parts after the
file are ignored, as S3 documents ("Any fields below it are ignored").
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from aiohttp import BodyPartReader, MultipartReader, web

from emulator.s3.errors import S3Error, entity_too_large, invalid_argument

PRE_DATA_LIMIT = 20 * 1024  # S3: form data and boundaries, excluding the file, <= 20 KB
MAX_FILE_SIZE = 5 * 1024**3  # S3's largest single-request upload (5 GiB)
SPOOL_LIMIT = 4 * 1024**2  # above this the file goes to disk
CHUNK_SIZE = 256 * 1024


@dataclass
class FilePart:
    """The uploaded file: headers as sent, stored bytes (up to the store limit) and counts."""

    name: str
    filename: str | None
    content_type: str | None
    size: int = 0
    stored: int = 0
    md5: hashlib._Hash = field(default_factory=lambda: hashlib.md5(usedforsecurity=False))
    data: IO[bytes] = field(
        default_factory=lambda: tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115
    )

    def close(self) -> None:
        self.data.close()


def malformed_post() -> S3Error:
    return S3Error(
        400,
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
    )


def pre_data_too_large() -> S3Error:
    return S3Error(
        400,
        "MaxPostPreDataLengthExceeded",
        "Your POST request fields preceeding the upload file was too large.",
        [("MaxPostPreDataLengthBytes", PRE_DATA_LIMIT)],
    )


class FormReader:
    """Reads the fields up to the file part, then (once the policy allows it) the file."""

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self._file_part: BodyPartReader | None = None
        self.file: FilePart | None = None

    async def read_fields(self) -> list[tuple[str, str]]:
        try:
            return await self._read_fields()
        except ValueError:  # aiohttp's signal for a broken multipart body
            raise malformed_post() from None

    async def _read_fields(self) -> list[tuple[str, str]]:
        reader = await self._request.multipart()
        fields: list[tuple[str, str]] = []
        budget = PRE_DATA_LIMIT
        while (part := await _next_part(reader)) is not None:
            name = part.name or ""
            if name.lower() == "file":
                self._file_part = part
                self.file = FilePart(name, part.filename, part.headers.get("Content-Type"))
                return fields
            budget -= len(name) + sum(len(k) + len(v) + 4 for k, v in part.headers.items())
            if budget < 0:
                raise pre_data_too_large()
            value = await _read_limited(part, budget)
            budget -= len(value)
            # surrogateescape keeps undecodable bytes intact when the form is re-encoded
            fields.append((name, value.decode("utf-8", "surrogateescape")))
        raise invalid_argument("POST requires exactly one file upload per request.", "file", "0")

    async def read_file(self, store_limit: int) -> FilePart:
        """Stream the file; bytes beyond `store_limit` are counted but not kept."""
        part, file = self._file_part, self.file
        assert part is not None and file is not None, "read_fields() first"
        try:
            while chunk := await part.read_chunk(CHUNK_SIZE):
                await _consume(file, chunk, store_limit)
        except ValueError:
            raise malformed_post() from None
        return file


async def _next_part(reader: MultipartReader) -> BodyPartReader | None:
    part = await reader.next()
    if part is not None and not isinstance(part, BodyPartReader):
        raise malformed_post()  # nested multipart/mixed is not an S3 form
    if part is not None and part.name is None:
        raise malformed_post()
    return part


async def _read_limited(part: BodyPartReader, budget: int) -> bytes:
    value = bytearray()
    while chunk := await part.read_chunk(min(CHUNK_SIZE, PRE_DATA_LIMIT + 1)):
        value += chunk
        if len(value) > budget:
            raise pre_data_too_large()
    return bytes(value)


async def _consume(file: FilePart, chunk: bytes, store_limit: int) -> None:
    file.size += len(chunk)
    if file.size > MAX_FILE_SIZE:
        raise entity_too_large(file.size, MAX_FILE_SIZE)
    keep = chunk[: max(0, store_limit - file.stored)]
    if keep:
        file.md5.update(keep)
        # Off the event loop: once spooled to disk a write may block.
        await asyncio.to_thread(file.data.write, keep)
        file.stored += len(keep)


# --- re-encoding for moto -----------------------------------------------------------------


def _quote(name: str) -> str:
    # HTML's multipart/form-data escaping of names in Content-Disposition.
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _field_bytes(boundary: str, name: str, value: str) -> bytes:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
    return head.encode() + value.encode("utf-8", "surrogateescape") + b"\r\n"


def _file_header(boundary: str, file: FilePart) -> bytes:
    disposition = f'form-data; name="{_quote(file.name)}"'
    if file.filename is not None:
        disposition += f'; filename="{_quote(file.filename)}"'
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    if file.content_type:
        head += f"Content-Type: {file.content_type}\r\n"
    return (head + "\r\n").encode("utf-8", "surrogateescape")


def encode_form(
    fields: Sequence[tuple[str, str]], file: FilePart
) -> tuple[str, int, AsyncIterator[bytes]]:
    """(content type, content length, body stream): moto insists on a Content-Length."""
    assert file.stored == file.size, "only a fully stored file can be forwarded"
    boundary = "S3EmulatorBoundary" + secrets.token_hex(16)
    head = b"".join(_field_bytes(boundary, n, v) for n, v in fields) + _file_header(boundary, file)
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + file.size + len(tail)
    return f"multipart/form-data; boundary={boundary}", length, _body(head, file, tail)


async def _body(head: bytes, file: FilePart, tail: bytes) -> AsyncIterator[bytes]:
    yield head
    file.data.seek(0)
    while chunk := await asyncio.to_thread(file.data.read, CHUNK_SIZE):
        yield chunk
    yield tail
