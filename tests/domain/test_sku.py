"""One SKU rule for the API and the eBay adapter."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapters.ebay import InventoryItem, InventoryItemWithSku
from domain.sku import is_valid_sku


@pytest.mark.parametrize("sku", ["ABC-1", "abc_1", "A", "9" * 50])
def test_accepted(sku: str) -> None:
    assert is_valid_sku(sku)
    InventoryItemWithSku(sku=sku, item=InventoryItem(title="t", description="d"))


@pytest.mark.parametrize("sku", ["ABC.1", "bad sku", "", "-ABC", "9" * 51, "ＡＢＣ"])
def test_refused_by_both(sku: str) -> None:
    assert not is_valid_sku(sku)
    with pytest.raises(ValidationError):
        InventoryItemWithSku(sku=sku, item=InventoryItem(title="t", description="d"))
