"""Fee schedules: worked examples checked by hand, and monotonicity in size."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneprice.core import fees
from oneprice.core.fees import NotExecutableError
from oneprice.core.venues import fee_model

D = Decimal


def test_kalshi_taker_fee_at_half_for_100_contracts() -> None:
    # 0.07 x 100 x 0.5 x 0.5 = 1.75 exactly: no rounding needed
    assert fees.kalshi_fee(D(100), D("0.5")) == D("1.75")


def test_kalshi_fee_rounds_up_to_the_cent() -> None:
    # 0.07 x 1 x 0.5 x 0.5 = 0.0175 -> 0.02 ; 0.07 x 10 x 0.5 x 0.5 = 0.175 -> 0.18
    assert fees.kalshi_fee(D(1), D("0.5")) == D("0.02")
    assert fees.kalshi_fee(D(10), D("0.5")) == D("0.18")
    # 0.07 x 100 x 0.1 x 0.9 = 0.63
    assert fees.kalshi_fee(D(100), D("0.10")) == D("0.63")


def test_kalshi_maker_fee() -> None:
    # 0.0175 x 100 x 0.5 x 0.5 = 0.4375 -> 0.44
    assert fees.kalshi_fee(D(100), D("0.5"), maker=True) == D("0.44")
    assert fees.kalshi_fee(D(10), D("0.5"), maker=True) == D("0.05")  # 0.04375 -> 0.05


def test_kalshi_order_fee_rounds_the_order_once() -> None:
    # 50 @ 0.40: 0.07*50*0.4*0.6 = 0.84 ; 50 @ 0.45: 0.07*50*0.45*0.55 = 0.86625 -> total 1.70625 -> 1.71
    assert fees.kalshi_order_fee([(D("0.40"), D(50)), (D("0.45"), D(50))]) == D("1.71")


def test_polymarket_fee_uses_market_schedule() -> None:
    # 100 x 0.02 x (0.5 x 0.5)^1 = 0.5
    assert fees.polymarket_fee(D(100), D("0.5"), D("0.02"), D(1)) == D("0.5")
    # 100 x 0.25 x (0.54 x 0.46)^2 = 25 x 0.2484^2 = 25 x 0.06170256 = 1.542564
    assert fees.polymarket_fee(D(100), D("0.54"), D("0.25"), D(2)) == D("1.54256400")
    model = fee_model("polymarket", {"fee_rate": 0.25, "fee_exponent": 2})
    assert model([(D("0.54"), D(100))], False) == D("1.54256")


def test_polymarket_without_schedule_is_free() -> None:
    model = fee_model("polymarket", {"fee_rate": None, "fee_exponent": None})
    assert model([(D("0.5"), D(1000))], False) == 0
    assert fee_model("polymarket", {})([(D("0.5"), D(1000))], False) == 0


def test_predictit_fee_on_profit_and_withdrawal() -> None:
    # 100 shares at 0.60: profit 40, 10% = 4.00; payout 96 withdrawn, 5% = 4.80; total 8.80
    assert fees.predictit_fee(D(100), D("0.60")) == D("8.80")
    assert fees.predictit_fee(D(100), D("0.60"), withdraw=False) == D("4.00")


def test_manifold_is_never_executable() -> None:
    with pytest.raises(NotExecutableError):
        fee_model("manifold")


prices = st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2)
sizes = st.integers(min_value=1, max_value=5000).map(D)


@given(prices, sizes, sizes, st.sampled_from(["kalshi", "polymarket", "predictit"]))
@settings(max_examples=300, deadline=None)
def test_fees_never_decrease_with_size(p: Decimal, s1: Decimal, s2: Decimal, venue: str) -> None:
    model = fee_model(venue, {"fee_rate": "0.03", "fee_exponent": "1"})
    small, large = sorted((s1, s2))
    assert model([(p, small)], False) <= model([(p, large)], False)
    # adding a deeper, worse level never lowers the fee either
    assert model([(p, small)], False) <= model([(p, small), (min(p + D("0.01"), D("0.99")), large)], False)
