"""Japanese tracking numbers (Yamato and Sagawa): 12 digits whose last digit is the first
eleven, read as a number, modulo 7 (the check used by public tools such as shipping-jp-js)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
JP_TRACKING_PATTERN = re.compile(r"^\d{12}$")


def jp_check_digit(first_eleven: str) -> int:
    return int(first_eleven) % 7


def is_jp_tracking_number(number: str) -> bool:
    return bool(JP_TRACKING_PATTERN.match(number)) and int(number[11]) == jp_check_digit(
        number[:11]
    )


def make_jp_tracking_number(serial: int, prefix: str = "") -> str:
    """A valid number from a serial (the emulators issue numbers with it)."""
    body = (prefix + str(serial).zfill(11 - len(prefix)))[-11:]
    return body + str(jp_check_digit(body))


def closes_without_scan(handed_over_days: float, close_after_days: float) -> bool:
    """A domestic parcel whose carrier page we do not read counts as delivered this many days
    after hand-off (0 turns the rule off: staff mark it delivered)."""
    return close_after_days > 0 and handed_over_days >= close_after_days


SHIPMENT_STATUS_BY_TRACKING: dict[str, str | None] = {
    "pending": "label_created",  # bought, the carrier has not scanned the parcel yet
    "unknown": None,  # tracking page not read: keep what we have
    "delivered": "delivered",
    "delivery_failed": "exception",
    "return_to_sender": "exception",
    "on_hold": "exception",
    "cancelled": "cancelled",
}
"""Our shipment status for a carrier's normalized tracking status; any other status (picked up,
in transit, out for delivery, ...) means `in_transit`: the status follows the carrier's scans,
not our purchase."""


def shipment_status_for(tracking_status: str) -> str | None:
    return SHIPMENT_STATUS_BY_TRACKING.get(tracking_status, "in_transit")


def due_date(handed_over: datetime, transit_days: int) -> date:
    """The day a parcel is promised: the label/hand-off day in Japan plus the chosen quote's
    transit days (calendar days)."""
    return handed_over.astimezone(JST).date() + timedelta(days=transit_days)


def days_late(handed_over: datetime, transit_days: int, now: datetime) -> int:
    """Whole days past the promised day in Japan (0: not late yet)."""
    return max(0, (now.astimezone(JST).date() - due_date(handed_over, transit_days)).days)
