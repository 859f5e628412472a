from __future__ import annotations

from domain.shipping_costs import charge_over_quote


def test_within_the_margin_is_not_flagged() -> None:
    assert charge_over_quote("4620", "JPY", "4420", "JPY", 5) == ""
    assert charge_over_quote("4000", "JPY", "4420", "JPY", 5) == ""  # cheaper is fine


def test_above_the_margin_is_flagged_with_the_figures() -> None:
    flag = charge_over_quote("5304", "JPY", "4420", "JPY", 5)
    assert "5304 JPY" in flag and "4420 JPY" in flag and "+20.0%" in flag


def test_another_currency_is_flagged_and_unknown_amounts_are_not() -> None:
    assert "quoted in JPY" in charge_over_quote("30", "USD", "4420", "JPY", 5)
    assert charge_over_quote("", "", "4420", "JPY", 5) == ""
