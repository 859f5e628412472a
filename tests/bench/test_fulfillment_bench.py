"""The fulfillment bench's arithmetic (the run itself is `make bench`, never a test)."""

from __future__ import annotations

import pytest

from bench.fulfillment_bench import round_ratios


def test_each_round_is_set_against_the_ceiling_rounds_beside_it() -> None:
    # ceiling 5 s, ours 8 s, ceiling 7 s, ours 6 s, ceiling 5 s (seconds per round of 20 orders)
    ratios = round_ratios(our_times=[8.0, 6.0], bare_times=[5.0, 7.0, 5.0])

    assert ratios == pytest.approx([6.0 / 8.0, 6.0 / 6.0])
