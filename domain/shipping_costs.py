"""The carrier's charge against the quote staff (or the policy) chose."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def charge_over_quote(
    charged: str, charged_currency: str, quoted: str, quoted_currency: str, margin_percent: float
) -> str:
    """Why the charge needs a look ("" when it does not): above the quote by more than the
    margin, or in another currency. An unknown charge or quote is not flagged."""
    try:
        charge, quote = Decimal(charged), Decimal(quoted)
    except (InvalidOperation, ValueError):
        return ""
    if charged_currency and quoted_currency and charged_currency != quoted_currency:
        return f"charged in {charged_currency}, quoted in {quoted_currency}"
    limit = quote * (1 + Decimal(str(margin_percent)) / 100)
    if charge > limit:
        over = (charge - quote) / quote * 100 if quote else Decimal(100)
        return (
            f"charged {charge} {charged_currency} against a quote of {quote} {quoted_currency}"
            f" (+{over.quantize(Decimal('0.1'))}%, margin {margin_percent:g}%)"
        )
    return ""
