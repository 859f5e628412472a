"""Stock: one truth for how many units we can sell, and what happens to a unit after a sale.

`Product.quantity` is the number of units we hold and may sell. Every change made because of an
order is a stock movement keyed by (order line, reason), so applying it twice changes nothing:

- `sale`: importing an order takes each line's quantity off (eBay took it off the offer itself).
- `cancel_restock`: a cancel for a reason that is not the item (buyer asked, staff cancel) puts
  the unit back.
- after a failed inspection the unit is NOT put back on sale as it was: staff choose a
  `UnitDisposition` — `restock` (the unit is fine after all), `write_off` (kept out of sale),
  `relist` (a new draft product for that one unit under another condition). When nobody decides
  within the decision window, `DEFAULT_UNIT_DISPOSITION` (write off) applies: a unit the
  inspector rejected is never sold again without a person saying so.

The quantity pushed to eBay is never above what we hold, and a scheduled sync never raises
eBay's quantity (it may only lower it): eBay takes units off on a sale before we import the
order, so raising it from our count could undo a sale we have not seen yet. Our own restocks
push the new quantity at the moment they happen.
"""

from __future__ import annotations

from enum import StrEnum


class MovementReason(StrEnum):
    sale = "sale"
    cancel_restock = "cancel_restock"
    inspection_restock = "inspection_restock"
    write_off = "write_off"
    relist = "relist"


class UnitDisposition(StrEnum):
    restock = "restock"
    write_off = "write_off"
    relist = "relist"


class RefundTiming(StrEnum):
    now = "now"
    contact_buyer = "contact_buyer"


DEFAULT_UNIT_DISPOSITION = UnitDisposition.write_off
DEFAULT_REFUND_TIMING = RefundTiming.now
FAILED_INSPECTION_DECISION_HOURS = 24.0
"""How long staff have to decide about a failed inspection before the defaults apply."""
BUYER_CONTACT_HOURS = 72.0
"""After 'contact the buyer first', how long before the refund goes out without a new decision."""

DISPOSITION_MOVEMENT = {
    UnitDisposition.restock: MovementReason.inspection_restock,
    UnitDisposition.write_off: MovementReason.write_off,
    UnitDisposition.relist: MovementReason.relist,
}
"""Only `inspection_restock` changes the product's quantity; the others record the decision."""

RELIST_SKU_SUFFIX = "-R"


def relist_sku(sku: str, line_item_id: str) -> str:
    """The SKU of the one-unit product relisted under another condition (at most 50 chars)."""
    suffix = f"{RELIST_SKU_SUFFIX}{line_item_id[-8:]}"
    return f"{sku[: 50 - len(suffix)]}{suffix}"


def pushable_quantity(ours: int, on_ebay: int | None) -> int:
    """What a scheduled sync may set on eBay: never above what we hold, never above eBay's own
    figure (which may already reflect a sale we have not imported)."""
    ours = max(0, ours)
    return ours if on_ebay is None else min(ours, max(0, on_ebay))
