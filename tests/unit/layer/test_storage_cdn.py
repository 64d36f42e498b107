"""Which CloudFront paths a media deletion invalidates, and that without a distribution (a local run)
invalidating is a no-op that calls nothing."""

from __future__ import annotations

import pytest

from kafkagram import storage
from kafkagram.store.media import object_keys
from kafkagram.store.models import Media


def media(media_id: int, widths: list[int]) -> Media:
    variants = [{"width": w, "height": w, "object_key": storage.variant_key(media_id, w), "content_type": "image/jpeg",
                 "size_bytes": 1} for w in widths]
    return Media(media_id, 1001, "post", "ready", "image/jpeg", 10, f"uploads/1001/{media_id}", 1080, 1080,
                 variants, "LEHV6nWB2yk8pyo0adR*.7kCMdnj", None, None, None)


def test_each_variant_is_invalidated_by_its_own_path_and_originals_are_not() -> None:
    keys = object_keys([media(5, [1080, 640, 320]), media(6, [320])])
    assert keys == ["uploads/1001/5", "media/5/1080.jpg", "media/5/640.jpg", "media/5/320.jpg",
                    "uploads/1001/6", "media/6/320.jpg"]
    # Exact paths, not /media/5/*: CloudFront allows 15 wildcard paths in progress, 3,000 file paths.
    assert storage.cdn_paths(keys) == ["/media/5/1080.jpg", "/media/5/320.jpg", "/media/5/640.jpg",
                                       "/media/6/320.jpg"]
    assert storage.cdn_paths(["uploads/1001/7"]) == []


def test_without_a_distribution_invalidating_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(storage.DISTRIBUTION_ENV, raising=False)
    # The unit tier refuses network access: a call to CloudFront would fail this test.
    assert storage.invalidate_cdn(["/media/5/1080.jpg"], reference="event-1") is None


def test_with_a_distribution_but_nothing_served_nothing_is_invalidated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(storage.DISTRIBUTION_ENV, "E2EXAMPLE")
    assert storage.invalidate_cdn([], reference="event-1") is None
