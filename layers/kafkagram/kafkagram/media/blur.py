"""BlurHash placeholders: a ~28-character string a client paints while the real image loads.

The encoding itself is the `blurhash` package (pure Python, no dependencies); its cost grows with
pixels x components, so it is given a thumbnail of at most THUMBNAIL_MAX_SIDE px (about 3 ms).
"""

from __future__ import annotations

import blurhash
from PIL import Image

# 4 horizontal x 3 vertical DCT components: the blurha.sh default, a 28-character hash.
COMPONENTS_X = 4
COMPONENTS_Y = 3
HASH_LENGTH = 4 + 2 * COMPONENTS_X * COMPONENTS_Y
# The hash keeps only the lowest frequencies, so 24 px carries all it can show.
THUMBNAIL_MAX_SIDE = 24
BYTES_PER_PIXEL = 3


def encode_blurhash(image: Image.Image) -> str:
    """BlurHash of an RGB image (any size; it is shrunk to a thumbnail first)."""
    thumbnail = _thumbnail(image)
    return str(blurhash.encode(_rows(thumbnail), COMPONENTS_X, COMPONENTS_Y))


def _thumbnail(image: Image.Image) -> Image.Image:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    scale = THUMBNAIL_MAX_SIDE / max(rgb.size)
    if scale >= 1:
        return rgb
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    # BOX averages every source pixel: what a blur wants, and the cheapest filter.
    return rgb.resize(size, Image.Resampling.BOX)


def _rows(image: Image.Image) -> list[list[bytes]]:
    """Rows of 3-byte pixels: the package's [y][x][channel] layout (bytes index to ints)."""
    pixels = image.tobytes()
    stride = image.width * BYTES_PER_PIXEL
    return [
        [pixels[x : x + BYTES_PER_PIXEL] for x in range(start, start + stride, BYTES_PER_PIXEL)]
        for start in range(0, len(pixels), stride)
    ]
