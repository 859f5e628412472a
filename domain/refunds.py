"""Why we refund a buyer, in our own words; the eBay adapter maps it to eBay's reasonForRefund."""

from __future__ import annotations

from enum import StrEnum


class RefundReason(StrEnum):
    buyer_cancelled = "buyer_cancelled"
    buyer_returned = "buyer_returned"
    not_received = "not_received"
    wrong_item = "wrong_item"
    out_of_stock = "out_of_stock"
    other = "other"
    """Anything else, e.g. the item failed our inspection or staff cancelled the order."""
