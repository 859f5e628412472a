"""The Japanese tracking-number check digit, one rule for the label workflow and the adapters."""

from __future__ import annotations

from domain.tracking import is_jp_tracking_number, make_jp_tracking_number


def test_jp_tracking_check_digit() -> None:
    assert is_jp_tracking_number("123456789013")  # 12345678901 % 7 == 3
    assert not is_jp_tracking_number("123456789012")
    assert not is_jp_tracking_number("12345678901")
    assert not is_jp_tracking_number("12345678901a")


def test_made_numbers_pass_the_check() -> None:
    numbers = [make_jp_tracking_number(serial, "4") for serial in (1, 77, 123_456)]
    assert all(len(n) == 12 and n.startswith("4") for n in numbers)
    assert all(is_jp_tracking_number(n) for n in numbers)


def test_status_follows_the_carrier_scans() -> None:
    from domain.tracking import shipment_status_for

    assert shipment_status_for("pending") == "label_created"
    assert shipment_status_for("picked_up") == "in_transit"
    assert shipment_status_for("out_for_delivery") == "in_transit"
    assert shipment_status_for("delivered") == "delivered"
    assert shipment_status_for("unknown") is None


def test_unread_domestic_tracking_closes_after_the_days() -> None:
    from domain.tracking import closes_without_scan

    assert not closes_without_scan(4.9, 5) and closes_without_scan(5, 5)
    assert not closes_without_scan(100, 0)  # 0: staff close it


def test_a_parcel_is_late_after_its_promised_day_in_japan():
    from datetime import UTC, datetime

    from domain.tracking import days_late, due_date

    # 16:00 UTC on 1 Dec is 01:00 on 2 Dec in Japan: the promise counts from 2 Dec.
    handed = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert str(due_date(handed, 3)) == "2026-12-05"
    assert days_late(handed, 3, datetime(2026, 12, 5, 14, 59, tzinfo=UTC)) == 0  # 23:59 JST
    assert days_late(handed, 3, datetime(2026, 12, 5, 15, 0, tzinfo=UTC)) == 1  # 00:00 JST, 6th
    assert days_late(handed, 0, datetime(2026, 12, 1, 16, 0, tzinfo=UTC)) == 0
