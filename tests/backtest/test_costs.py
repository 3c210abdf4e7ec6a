"""The shared cost model: money maths as properties (Hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneprice.backtest.costs import CostModel, buy_all, buy_all_nb, sell_size

fees = st.floats(0, 0.05)
prices = st.floats(0.01, 1e6)
cash = st.floats(1, 1e9)


@settings(deadline=None)
@given(
    cash=cash, price=prices, fee=fees, fixed=st.floats(0, 0.5), unit=st.sampled_from([0.0, 1e-8, 0.001, 1.0])
)
def test_all_in_buy_never_overspends_and_fee_is_the_model_fee(cash, price, fee, fixed, unit):
    size, spent, fee_paid = buy_all(cash, price, fee, fixed, unit)
    assert size >= 0 and spent <= cash * (1 + 1e-12)
    if size > 0:
        assert spent == pytest.approx(size * price + fee_paid, rel=1e-12)
        assert fee_paid == pytest.approx(
            CostModel(fee=fee, fixed=fixed).fee_for(size, price), rel=1e-9, abs=cash * 1e-14
        )
        if unit:
            assert size / unit == pytest.approx(round(size / unit), rel=1e-12, abs=1e-6)
    assert buy_all_nb(cash, price, fee, fixed, unit) == (size, spent, fee_paid)  # same arithmetic compiled


@given(size=st.floats(0.001, 1e4), price=prices, fee=fees)
def test_round_trip_at_one_price_loses_exactly_the_fees(size, price, fee):
    c = CostModel(fee=fee)
    net, fee_out = sell_size(size, price, fee, 0.0)
    assert net == pytest.approx(size * price - c.fee_for(size, price), rel=1e-12)
    assert fee_out >= 0


@settings(deadline=None)
@given(
    contracts=st.integers(1, 10_000),
    price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2),
)
def test_kalshi_fee_rounds_up_to_the_cent_and_never_by_more(contracts, price):
    c = CostModel(pm_fee=0.07, fee_step=0.01)
    exact = Decimal("0.07") * contracts * price * (1 - price)
    fee = c.fee_for(Decimal(contracts), price)
    assert fee == fee.quantize(Decimal("0.01")) and exact <= fee < exact + Decimal("0.01")
    assert c.fee_for_fills([(price, Decimal(contracts))]) == fee


def test_known_kalshi_fee_and_slippage():
    assert CostModel(pm_fee=0.07, fee_step=0.01).fee_for(Decimal(100), Decimal("0.50")) == Decimal("1.75")
    c = CostModel(slippage=0.001)
    assert c.fill_price(100.0, 1) == pytest.approx(100.1) and c.fill_price(100.0, -1) == pytest.approx(99.9)
    assert c.fill_price(Decimal("0.5"), 1) == Decimal("0.5005")
    with pytest.raises(ValueError, match="fee must be"):
        CostModel(fee=-0.1)
