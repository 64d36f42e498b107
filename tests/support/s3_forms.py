"""Browser-like requests to an S3 endpoint: multipart POST forms as a browser sends them (from a
presigned POST's fields), and single requests that never follow redirects or raise on 4xx; and the
URL line `python -m emulator.s3` prints once it listens."""

from __future__ import annotations

import http.client
import selectors
import subprocess
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)

    def error(self) -> tuple[str | None, str | None]:
        root = self.xml()
        return root.findtext("Code"), root.findtext("Message")



def http_request(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Reply:
    """One request with http.client: no redirect following, no exceptions on 4xx."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def multipart(
    fields: Sequence[tuple[str, str]],
    file: bytes | None,
    *,
    filename: str = "photo.png",
    file_type: str = "image/png",
    after_file: Sequence[tuple[str, str]] = (),
) -> tuple[bytes, str]:
    boundary = f"----TestBoundary{uuid.uuid4().hex}"

    def field(name: str, value: str) -> bytes:
        return f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()

    body = b"".join(field(name, value) for name, value in fields)
    if file is not None:
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {file_type}\r\n\r\n"
        ).encode() + file + b"\r\n"
    body += b"".join(field(name, value) for name, value in after_file)
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post_form(
    url: str,
    fields: dict[str, str] | Sequence[tuple[str, str]],
    file: bytes | None = b"\x89PNG fake image",
    *,
    origin: str | None = None,
    **options: Any,
) -> Reply:
    items = list(fields.items()) if isinstance(fields, dict) else list(fields)
    body, content_type = multipart(items, file, **options)
    headers = {"Content-Type": content_type}
    if origin:
        headers["Origin"] = origin
    return http_request("POST", url, body, headers)




def read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The next line `process` prints, or fail after `timeout` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError("no output before the deadline")
    return process.stdout.readline().strip()
