"""The USD price eBay shows, derived from the yen price when staff did not set one.

`usd = price_jpy / JPY_PER_USD`, rounded half-up to cents, never below 0.99 (eBay's practical
floor for a fixed-price item). `JPY_PER_USD` is a setting (default 150) that staff update when the
exchange rate moves; it is applied when the copy is written and whenever the yen price of a
product changes without an explicit `price_usd`. A `price_usd` set by staff (in the review or
on the product) wins over the derived value.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MIN_USD = Decimal("0.99")


def usd_from_jpy(price_jpy: int, jpy_per_usd: float) -> str:
    usd = Decimal(price_jpy) / Decimal(str(jpy_per_usd))
    return str(max(usd, MIN_USD).quantize(Decimal("0.01"), ROUND_HALF_UP))
