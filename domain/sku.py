"""What a SKU may look like: letters, digits, `_` and `-`, starting with a letter or digit, at
most 50 characters. eBay refuses anything else (a dot, for one), so the API refuses it too."""

from __future__ import annotations

import re

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$"
SKU_MAX_LENGTH = 50


def is_valid_sku(sku: str) -> bool:
    return re.fullmatch(SKU_PATTERN, sku) is not None
