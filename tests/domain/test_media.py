"""Inspection media keys: one layout for the API, the activity and the workflow."""

from __future__ import annotations

from domain.media import inspection_media_prefix, is_inspection_media_key


def test_media_keys_live_under_the_order() -> None:
    prefix = inspection_media_prefix("o-1")
    assert prefix == "inspection-videos/o-1/"
    assert is_inspection_media_key(f"{prefix}front.jpg", "o-1")
    assert not is_inspection_media_key(prefix, "o-1")
    assert not is_inspection_media_key("inspection-videos/o-2/front.jpg", "o-1")
    assert not is_inspection_media_key("product-images/o-1/front.jpg", "o-1")


def test_media_keys_are_plain_paths() -> None:
    """`..`, `.`, empty segments, backslashes and control characters never reach the store."""
    prefix = inspection_media_prefix("o-1")
    assert is_inspection_media_key(f"{prefix}day-1/front.jpg", "o-1")
    for bad in (
        f"{prefix}../o-2/front.jpg",
        f"{prefix}a/../../secret",
        f"{prefix}..",
        f"{prefix}./front.jpg",
        f"{prefix}a//b.jpg",
        f"{prefix}a\\b.jpg",
        f"{prefix}a\nb.jpg",
    ):
        assert not is_inspection_media_key(bad, "o-1"), bad
