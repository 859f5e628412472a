"""Item condition in our own words; the eBay adapter maps it to eBay's ConditionEnum."""

from __future__ import annotations

from enum import StrEnum


class Condition(StrEnum):
    new = "new"
    like_new = "like_new"
    used_excellent = "used_excellent"
    used_very_good = "used_very_good"
    used_good = "used_good"
    used_acceptable = "used_acceptable"
    for_parts = "for_parts"
