"""Upload processing benchmark: `process_image` against a raw Pillow loop doing the same minimal work.

The raw loop opens a 12 MP JPEG, drafts it to the largest variant, decodes, resizes to 1080, then
640 and 320 from the 1080 one, and encodes each with the same JPEG settings: what any upload
pipeline must do. The difference is the price of validation, orientation, colour, metadata
stripping and the blurhash. Both run one image at a time, interleaved so that load from other
processes falls on both alike. Target ratio >= 0.85.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from typing import Any

from PIL import Image

from kafkagram.media.processing import JPEG_QUALITY, PROGRESSIVE_ABOVE_WIDTH, RESAMPLE, VARIANT_WIDTHS, process_image

SOURCE_SIZE = (4000, 3000)
SOURCE_QUALITY = 85  # with the noise below: a ~3.4 MB file, like a phone photo
NOISE_SIGMA = 40
MEASURE_SECONDS = 16.0  # both pipelines together, after one warm-up each
MIN_ROUNDS = 5
TARGET_RATIO = 0.85
RAW = "raw Pillow draft-decode-resize-encode"
OURS = "process_image"


def synthetic_photo() -> bytes:
    """A 12 MP JPEG with gradients, coarse blobs and fine noise, so every scale has detail."""
    width, height = SOURCE_SIZE
    blobs = Image.effect_noise((width // 8, height // 8), 64).resize(SOURCE_SIZE, Image.Resampling.BICUBIC)
    across = Image.linear_gradient("L").rotate(90).resize(SOURCE_SIZE)
    down = Image.linear_gradient("L").resize(SOURCE_SIZE)
    grain = Image.effect_noise(SOURCE_SIZE, NOISE_SIGMA)
    mirrored = blobs.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    bands = (Image.blend(blobs, across, 0.5), Image.blend(down, grain, 0.3), Image.blend(mirrored, down, 0.4))
    buffer = io.BytesIO()
    Image.merge("RGB", bands).save(buffer, "JPEG", quality=SOURCE_QUALITY)
    return buffer.getvalue()


def raw_pillow(data: bytes) -> list[bytes]:
    """The baseline: draft, decode once, resize 1080 -> 640/320, encode; no checks, no metadata work."""
    with Image.open(io.BytesIO(data)) as source:
        width, height = source.size
        sizes = [(w, round(height * w / width)) for w in VARIANT_WIDTHS]
        source.draft("RGB", sizes[0])
        largest = source.resize(sizes[0], RESAMPLE)
    images = [largest, *(largest.resize(size, RESAMPLE) for size in sizes[1:])]
    return [_jpeg(image) for image in images]


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, progressive=image.width > PROGRESSIVE_ABOVE_WIDTH)
    return buffer.getvalue()


def _ours(data: bytes) -> object:
    return process_image(data, declared_content_type="image/jpeg")


def _timed(work: Callable[[bytes], object], data: bytes) -> float:
    started = time.perf_counter()
    work(data)
    return time.perf_counter() - started


def _row(name: str, seconds: list[float], baseline_rate: float | None) -> dict[str, Any]:
    ordered = sorted(seconds)
    rate = len(seconds) / sum(seconds)
    return {"pipeline": name, "images": len(seconds), "images_per_s": rate,
            "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000,
            "ratio": rate / baseline_rate if baseline_rate else 1.0}


def run_media_bench(seconds: float = MEASURE_SECONDS) -> list[dict[str, Any]]:
    """Rows for the raw loop and for process_image on the same synthetic 12 MP JPEG, one core."""
    data = synthetic_photo()
    pipelines: dict[str, Callable[[bytes], object]] = {RAW: raw_pillow, OURS: _ours}
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for work in pipelines.values():
        work(data)  # warm-up: imports, colour profiles, allocator
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times[OURS]) < MIN_ROUNDS:
        for name, work in pipelines.items():
            times[name].append(_timed(work, data))
    raw = _row(RAW, times[RAW], None)
    ours = _row(OURS, times[OURS], raw["images_per_s"])
    source = f"{SOURCE_SIZE[0]}x{SOURCE_SIZE[1]} JPEG, {len(data) / 1_000_000:.1f} MB"
    return [{**raw, "source": source}, {**ours, "source": source}]


def main() -> None:
    rows = run_media_bench()
    for row in rows:
        print(row)
    ratio = rows[-1]["ratio"]
    print(f"ratio {ratio:.3f} (target >= {TARGET_RATIO})")


if __name__ == "__main__":
    main()
