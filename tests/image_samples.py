"""Hostile images built in memory, for the tests of upload processing."""

from __future__ import annotations

import struct
import zlib


def bilevel_png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG: megapixels in a few kilobytes (a decompression bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = zlib.compress(bytes((1 + (width + 7) // 8) * height), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
