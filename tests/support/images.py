"""Images built in memory: hostile ones for the tests of upload processing, and photo-like ones."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def bilevel_png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG: megapixels in a few kilobytes (a decompression bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = zlib.compress(bytes((1 + (width + 7) // 8) * height), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


def photo_jpeg(size: tuple[int, int] = (1600, 1200)) -> bytes:
    """Gradients plus noise, like a photo, as a JPEG."""
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (horizontal, vertical, Image.effect_noise(size, 40)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()
