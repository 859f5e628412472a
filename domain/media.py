"""Where inspection photos and videos live in the bucket: `inspection-videos/{order_id}/<file>`."""

from __future__ import annotations

import re

INSPECTION_MEDIA_ROOT = "inspection-videos/"
UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
"""Characters never kept in an uploaded file's name (each run is replaced)."""


def inspection_media_prefix(order_id: str) -> str:
    return f"{INSPECTION_MEDIA_ROOT}{order_id}/"


def is_inspection_media_key(key: str, order_id: str) -> bool:
    """A file under the order's folder (the folder itself is not a file), named by a plain path:
    no `.`/`..` or empty segment, no backslash or control character, so the key can never point
    outside the folder nor be refused by the store."""
    prefix = inspection_media_prefix(order_id)
    if not key.startswith(prefix) or key == prefix:
        return False
    if "\\" in key or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        return False
    return all(part not in ("", ".", "..") for part in key[len(prefix) :].split("/"))
