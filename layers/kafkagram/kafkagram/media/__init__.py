"""Image processing for uploads: validation, orientation, metadata stripping, variants, blurhash."""

from kafkagram.media.blur import encode_blurhash
from kafkagram.media.processing import (
    DEFAULT_LIMITS,
    VARIANT_WIDTHS,
    ImageLimits,
    ImageRejected,
    ProcessedImage,
    RejectReason,
    Variant,
    process_image,
    variant_widths,
)

__all__ = [
    "DEFAULT_LIMITS",
    "VARIANT_WIDTHS",
    "ImageLimits",
    "ImageRejected",
    "ProcessedImage",
    "RejectReason",
    "Variant",
    "encode_blurhash",
    "process_image",
    "variant_widths",
]
