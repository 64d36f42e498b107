"""Upload processing with real Pillow on images made here: refusals, orientation, metadata, variants."""

from __future__ import annotations

import io
import pickle
import struct
import zlib

import blurhash
import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps

from kafkagram.media import (
    DEFAULT_LIMITS,
    ImageLimits,
    ImageRejected,
    RejectReason,
    encode_blurhash,
    process_image,
    variant_widths,
)

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
BASE83_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
# Computed with the BlurHash authors' C encoder (woltapp blurhash-python 1.2.2) on the same thumbnails.
REFERENCE_GRADIENT_HASH = "LyHeqNl}gQn-2@WDflWqsbjufRju"
REFERENCE_FLAT_HASH = "LAM|T9^4fQ^4}XoKfQoKfQfQfQfQ"
FLAT_COLOUR = (200, 100, 50)
GREEN = (0, 255, 0)
QUADRANT_COLOURS = (RED, GREEN, BLUE, WHITE)  # top-left, top-right, bottom-left, bottom-right
# ICC (D50) colorants of sRGB and the D50 white point, for a hand-made profile.
D50_WHITE = (0.9642, 1.0, 0.8249)
SRGB_COLORANTS = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))
GAMMA_2_2 = 0x0233  # u8Fixed8


def _photo(size: tuple[int, int]) -> Image.Image:
    """Gradients plus noise: something with detail at every scale, like a photo."""
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (horizontal, vertical, Image.effect_noise(size, 40)))


def _encoded(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bilevel_png(width: int, height: int) -> bytes:
    """A complete, valid all-black 1-bit PNG: megapixels of image in a few kilobytes."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(bytes((1 + (width + 7) // 8) * height), 9)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows)
            + _png_chunk(b"IEND", b""))


def _quadrants(size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", size)
    half_w, half_h = size[0] // 2, size[1] // 2
    for index, colour in enumerate(QUADRANT_COLOURS):
        left, top = (index % 2) * half_w, (index // 2) * half_h
        image.paste(colour, (left, top, left + half_w, top + half_h))
    return image


def _quadrant_centres(image: Image.Image) -> list[object]:
    width, height = image.size
    return [image.getpixel((x * width // 4, y * height // 4)) for y in (1, 3) for x in (1, 3)]


def _with_orientation(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return _encoded(image, exif=exif.tobytes(), quality=95)


def _icc_xyz(values: tuple[float, float, float]) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(struct.pack(">i", round(v * 65536)) for v in values)


def _red_blue_swapped_profile() -> bytes:
    """An RGB ICC v2 profile whose red is sRGB's blue and the reverse: conversion is plain to see."""
    name = b"Red and blue swapped\0"
    description = b"desc" + bytes(4) + struct.pack(">I", len(name)) + name + bytes(4 + 4 + 2 + 1 + 67)
    gamma = b"curv" + bytes(4) + struct.pack(">IH", 1, GAMMA_2_2) + bytes(2)
    red, green, blue = SRGB_COLORANTS
    tags = [(b"desc", description), (b"wtpt", _icc_xyz(D50_WHITE)), (b"rXYZ", _icc_xyz(blue)),
            (b"gXYZ", _icc_xyz(green)), (b"bXYZ", _icc_xyz(red)), (b"rTRC", gamma), (b"gTRC", gamma),
            (b"bTRC", gamma)]
    first_offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", first_offset + len(body), len(data))
        body += data + bytes(-len(data) % 4)
    header = (struct.pack(">I", first_offset + len(body)) + b"lcms" + struct.pack(">I", 0x02100000)
              + b"mntrRGB XYZ " + bytes(12) + b"acsp" + bytes(28) + _icc_xyz(D50_WHITE)[8:] + bytes(48))
    return header + struct.pack(">I", len(tags)) + table + body


def _rejected(data: bytes, declared_content_type: str | None = None,
              limits: ImageLimits = DEFAULT_LIMITS) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        process_image(data, declared_content_type=declared_content_type, limits=limits)
    assert caught.value.message == str(caught.value) and caught.value.message.endswith(".")
    return caught.value


# Refusals


def test_text_named_jpg_is_not_an_image() -> None:
    refusal = _rejected(b"just some text, renamed photo.jpg\n" * 50, declared_content_type="image/jpeg")
    assert refusal.reason == RejectReason.NOT_AN_IMAGE
    assert "image/jpeg" in refusal.message
    hostile = _rejected(b"text", declared_content_type="<script>alert(1)</script>")
    assert "script" not in hostile.message


def test_refusals_survive_pickling() -> None:
    refusal = _rejected(b"text")
    copy = pickle.loads(pickle.dumps(refusal))
    assert (copy.reason, copy.message, str(copy)) == (refusal.reason, refusal.message, refusal.message)


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10" fill="red"/></svg>',
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    b"",
], ids=["svg", "pdf", "empty"])
def test_documents_are_not_images(data: bytes) -> None:
    assert _rejected(data).reason == RejectReason.NOT_AN_IMAGE


def test_truncated_jpeg_is_refused() -> None:
    data = _encoded(_photo((800, 600)), quality=90)
    assert _rejected(data[: len(data) // 2]).reason == RejectReason.TRUNCATED


def test_truncated_png_is_refused() -> None:
    data = _encoded(_photo((400, 300)), "PNG")
    assert _rejected(data[: len(data) // 2]).reason == RejectReason.TRUNCATED


def test_lenient_decoding_switched_on_elsewhere_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        process_image(_encoded(_photo((64, 48))))


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animated_images_are_refused(fmt: str) -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in (RED, BLUE)]
    data = _encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert _rejected(data).reason == RejectReason.ANIMATED


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_still_formats_are_unsupported(fmt: str) -> None:
    refusal = _rejected(_encoded(Image.new("RGB", (32, 32), RED), fmt))
    assert refusal.reason == RejectReason.UNSUPPORTED_FORMAT
    assert fmt in refusal.message and "JPEG, PNG or WebP" in refusal.message


def test_heic_is_unsupported_without_being_parsed() -> None:
    heic_start = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + bytes(64)
    refusal = _rejected(heic_start)
    assert refusal.reason == RejectReason.UNSUPPORTED_FORMAT and "HEIC" in refusal.message


def test_decompression_bomb_over_our_cap_is_refused_before_decoding() -> None:
    bomb = _bilevel_png(9_000, 6_000)  # 54 MP: over our cap, under Pillow's own
    assert len(bomb) < 20_000
    refusal = _rejected(bomb)
    assert refusal.reason == RejectReason.TOO_MANY_PIXELS
    assert "9000x6000" in refusal.message


def test_decompression_bomb_over_pillows_cap_is_refused() -> None:
    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)  # 2.5 gigapixels of RGB
    bomb = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b""))
            + _png_chunk(b"IEND", b""))
    refusal = _rejected(bomb)
    assert refusal.reason == RejectReason.TOO_MANY_PIXELS and "50 megapixels" in refusal.message


def test_absurdly_long_side_is_refused() -> None:
    assert _rejected(_bilevel_png(DEFAULT_LIMITS.max_side + 1, 1)).reason == RejectReason.BAD_DIMENSIONS


def test_oversize_file_is_refused() -> None:
    oversize = b"\xff\xd8\xff\xe0" + bytes(DEFAULT_LIMITS.max_bytes)
    refusal = _rejected(oversize)
    assert refusal.reason == RejectReason.TOO_LARGE and "20 MB" in refusal.message


def test_limits_are_per_call() -> None:
    data = _encoded(_photo((64, 48)))
    assert _rejected(data, limits=ImageLimits(max_bytes=len(data) - 1)).reason == RejectReason.TOO_LARGE
    assert _rejected(data, limits=ImageLimits(max_pixels=64 * 48 - 1)).reason == RejectReason.TOO_MANY_PIXELS


# What comes out


def test_variants_are_jpegs_of_each_width_keeping_aspect_ratio() -> None:
    result = process_image(_encoded(_photo((2160, 1620)), quality=90))
    assert (result.width, result.height, result.source_content_type) == (2160, 1620, "image/jpeg")
    assert [(v.width, v.height) for v in result.variants] == [(1080, 810), (640, 480), (320, 240)]
    for variant in result.variants:
        output = _decoded(variant.data)
        assert (output.format, output.mode, output.size) == ("JPEG", "RGB", (variant.width, variant.height))
        assert variant.content_type == "image/jpeg"
    progressive = [bool(_decoded(v.data).info.get("progressive")) for v in result.variants]
    assert progressive == [True, False, False]


def test_narrow_originals_are_never_upscaled() -> None:
    result = process_image(_encoded(_photo((500, 250))))
    assert [(v.width, v.height) for v in result.variants] == [(500, 250), (320, 160)]
    tiny = process_image(_encoded(_photo((40, 30)), "PNG"))
    assert [(v.width, v.height) for v in tiny.variants] == [(40, 30)]


@pytest.mark.parametrize(("width", "expected"), [
    (4000, (1080, 640, 320)), (1080, (1080, 640, 320)), (700, (700, 640, 320)), (640, (640, 320)), (100, (100,)),
])
def test_variant_widths(width: int, expected: tuple[int, ...]) -> None:
    assert variant_widths(width) == expected


def test_exif_orientation_is_applied() -> None:
    stored = Image.new("RGB", (400, 200), BLUE)
    stored.paste(RED, (0, 0, 200, 200))  # left half red
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # shown rotated 90 degrees clockwise: left becomes top
    result = process_image(_encoded(stored, exif=exif.tobytes(), quality=95))
    assert (result.width, result.height) == (200, 400)
    upright = _decoded(result.variants[0].data)
    assert upright.size == (200, 400)
    assert _close(upright.getpixel((100, 100)), RED) and _close(upright.getpixel((100, 300)), BLUE)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillows_exif_transpose(orientation: int) -> None:
    data = _with_orientation(_quadrants((320, 160)), orientation)
    expected = ImageOps.exif_transpose(_decoded(data))
    result = process_image(data)
    output = _decoded(result.variants[0].data)
    assert output.size == expected.size == (result.width, result.height)
    for got, want in zip(_quadrant_centres(output), _quadrant_centres(expected), strict=True):
        assert isinstance(want, tuple) and _close(got, want)


def test_orientation_with_draft_scaled_decoding() -> None:
    # 4400x2200 stored, shown 2200x4400: drafted at 1/2, resized to 2160x1080, then turned.
    data = _with_orientation(_quadrants((4400, 2200)), 8)
    result = process_image(data)
    assert (result.width, result.height) == (2200, 4400)
    assert [(v.width, v.height) for v in result.variants] == [(1080, 2160), (640, 1280), (320, 640)]
    expected = _quadrant_centres(ImageOps.exif_transpose(_decoded(data)))
    for got, want in zip(_quadrant_centres(_decoded(result.variants[1].data)), expected, strict=True):
        assert isinstance(want, tuple) and _close(got, want)


def test_colour_profile_is_converted_to_srgb_then_dropped() -> None:
    data = _encoded(Image.new("RGB", (300, 200), RED), icc_profile=_red_blue_swapped_profile(), quality=95)
    output = _decoded(process_image(data).variants[0].data)
    assert _close(output.getpixel((150, 100)), BLUE)
    assert "icc_profile" not in output.info


def test_all_metadata_is_stripped() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (48.0, 51.0, 29.0)}
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>SecretPlace</rdf:RDF></x:xmpmeta>'
    data = _encoded(_photo((700, 500)), exif=exif.tobytes(), icc_profile=srgb, xmp=xmp, comment=b"SecretNote")
    assert _decoded(data).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really carries GPS
    for variant in process_image(data).variants:
        output = _decoded(variant.data)
        assert not output.getexif() and not output.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(output.info)
        for secret in (b"Exif", b"SecretCam", b"SecretPlace", b"SecretNote", b"ICC_PROFILE"):
            assert secret not in variant.data


@pytest.mark.parametrize("mode", ["RGBA", "LA", "PA"])
def test_transparency_becomes_white(mode: str) -> None:
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 150, 200))  # left half opaque red, right half transparent
    if mode == "LA":
        image = image.convert("LA")
    elif mode == "PA":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE)
        image.info["transparency"] = image.getpixel((299, 199))
    result = process_image(_encoded(image, "PNG"))
    output = _decoded(result.variants[0].data)
    assert _close(output.getpixel((250, 100)), WHITE)
    assert not _close(output.getpixel((50, 100)), WHITE)


def test_webp_grey_cmyk_and_sixteen_bit_grey_become_rgb() -> None:
    webp = process_image(_encoded(_photo((300, 200)), "WEBP"))
    assert webp.source_content_type == "image/webp"
    grey_jpeg = process_image(_encoded(Image.new("L", (300, 200), 90)))
    assert _close(_decoded(grey_jpeg.variants[0].data).getpixel((150, 100)), (90, 90, 90), tolerance=3)
    cmyk = process_image(_encoded(Image.new("CMYK", (300, 200), (0, 255, 255, 0))))  # red in ink
    assert _close(_decoded(cmyk.variants[0].data).getpixel((150, 100)), RED, tolerance=40)
    grey = process_image(_encoded(Image.new("I;16", (300, 200), 32_896), "PNG"))  # half of 65535
    assert _close(_decoded(grey.variants[0].data).getpixel((150, 100)), (128, 128, 128), tolerance=3)


def test_camera_mpo_is_a_photo_not_an_animation() -> None:
    frames = [_photo((400, 300)), _photo((400, 300))]
    result = process_image(_encoded(frames[0], "MPO", save_all=True, append_images=frames[1:]))
    assert result.source_content_type == "image/jpeg" and result.width == 400


def test_unusable_colour_profile_does_not_refuse_the_photo() -> None:
    result = process_image(_encoded(_photo((300, 200)), icc_profile=b"not a profile at all"))
    assert result.variants[0].width == 300


# Blurhash


def test_blurhash_is_valid_and_deterministic() -> None:
    data = _encoded(_photo((800, 600)))
    first, second = process_image(data).blurhash, process_image(data).blurhash
    assert first == second
    assert len(first) == 28 and set(first) <= set(BASE83_DIGITS)
    assert blurhash.components(first) == (4, 3)


def test_blurhash_matches_the_reference_encoder() -> None:
    size = (96, 64)
    gradient = Image.merge("RGB", (Image.linear_gradient("L").resize(size),
                                   Image.linear_gradient("L").rotate(90).resize(size),
                                   Image.radial_gradient("L").resize(size)))
    assert encode_blurhash(gradient) == REFERENCE_GRADIENT_HASH
    assert encode_blurhash(Image.new("RGB", (24, 18), FLAT_COLOUR)) == REFERENCE_FLAT_HASH


def test_blurhash_of_a_flat_colour_decodes_to_that_colour() -> None:
    # Characters 2-5 are the DC component: the mean colour in sRGB, in base 83.
    dc = 0
    for character in REFERENCE_FLAT_HASH[2:6]:
        dc = dc * 83 + BASE83_DIGITS.index(character)
    assert (dc >> 16, (dc >> 8) & 255, dc & 255) == FLAT_COLOUR
    # The AC terms of a flat image are tiny but quantised relative to their own maximum (a known
    # BlurHash trait), so the decoded picture is flat only on average.
    pixels = [tuple(pixel) for row in blurhash.decode(REFERENCE_FLAT_HASH, 8, 6) for pixel in row]
    mean = tuple(round(sum(channel) / len(pixels)) for channel in zip(*pixels, strict=True))
    assert _close(mean, FLAT_COLOUR, tolerance=10)


def _close(pixel: object, expected: tuple[int, ...], tolerance: int = 24) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))
