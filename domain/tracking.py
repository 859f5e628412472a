"""Japanese tracking numbers (Yamato and Sagawa): 12 digits whose last digit is the first
eleven, read as a number, modulo 7 (the check used by public tools such as shipping-jp-js)."""

from __future__ import annotations

import re

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
