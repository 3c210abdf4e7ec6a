"""Event engine: limit and stop fills on bars, book fills, prediction-market settlement at 0 or 1."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneprice.backtest import CostModel
from oneprice.backtest.events import Broker, Instrument, run_events

D = Decimal


def _idx(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC")


def bar_ins(o, h, lo, c) -> Instrument:
    return Instrument("X", np.array(o, float), np.array(h, float), np.array(lo, float), np.array(c, float))


def test_limit_buy_and_stop_sell_on_bars():
    ins = bar_ins([100, 99, 96, 97, 92], [101, 100, 97, 98, 93], [99, 95, 94, 96, 90], [100, 96, 96, 97, 91])

    def on_bar(b: Broker) -> None:
        if b.i == 0:
            b.buy("X", 10, limit=95.5)  # the low reaches 95 on bar 1: fills at min(open 99, 95.5)
        if b.i == 1 and b.position("X") > 0:
            b.sell("X", 10, stop=93.0)  # bar 4 opens at 92 below the stop: gap fill at the open

    r = run_events(_idx(5), [ins], on_bar, CostModel(fee=0.001), cash=1000.0)
    t = r.trades.iloc[0]
    assert t["entry_time"] == _idx(5)[1] and t["entry_price"] == 95.5
    assert t["exit_time"] == _idx(5)[4] and t["exit_price"] == 92.0
    fees = 10 * 95.5 * 0.001 + 10 * 92 * 0.001
    assert t["pnl"] == pytest.approx(10 * (92 - 95.5) - fees)
    assert r.final_equity == pytest.approx(1000 + t["pnl"])


def test_orders_never_fill_on_the_bar_they_are_placed():
    ins = bar_ins([100, 100], [100, 100], [50, 100], [100, 100])
    r = run_events(_idx(2), [ins], lambda b: b.buy("X", 1, limit=60) if b.i == 0 else None, CostModel())
    assert len(r.trades) == 0  # only bar 0 reached 60, before the order existed


def test_insufficient_cash_is_rejected_and_recorded():
    ins = bar_ins([100, 100], [100, 100], [100, 100], [100, 100])
    seen = {}

    def on_bar(b: Broker) -> None:
        if b.i == 0:
            seen["o"] = b.buy("X", 50)

    run_events(_idx(2), [ins], on_bar, CostModel(), cash=1000.0)
    assert seen["o"].status == "rejected" and seen["o"].reason == "insufficient cash"


def pm(ask: list, bid: list, settle_at: int | None, payout, ask_size=None) -> Instrument:
    return Instrument(
        "K:Yes",
        bid=[D(str(x)) for x in bid],
        ask=[D(str(x)) for x in ask],
        ask_size=ask_size,
        settle_at=settle_at,
        payout=payout,
    )


@pytest.mark.parametrize("outcome", [0, 1])
def test_prediction_market_position_pays_exactly_1_or_0_per_contract(outcome):
    """Buy 37 contracts at 0.42 with Kalshi's fee (0.07 x C x P x (1-P), rounded up to the cent); hold to
    resolution: the contracts pay exactly 1 (or 0) each, no settlement fee."""
    cost = CostModel(pm_fee=0.07, fee_step=0.01)
    ins = pm([0.42, 0.45, 0.50], [0.40, 0.43, 0.48], settle_at=2, payout=D(outcome))
    r = run_events(
        _idx(3), [ins], lambda b: b.buy("K:Yes", 37) if b.i == 0 else None, cost, cash=D("100"), fill="close"
    )
    fee = D("0.64")  # 0.07 x 37 x 0.42 x 0.58 = 0.630924, rounded up to the cent
    assert r.meta["final_cash"] == D("100") - 37 * D("0.42") - fee + 37 * D(outcome)
    t = r.trades.iloc[0]
    assert t["status"] == "settled" and t["exit_price"] == D(outcome) and t["exit_fee"] == 0
    assert t["pnl"] == 37 * (D(outcome) - D("0.42")) - fee


@settings(max_examples=60, deadline=None)
@given(
    price=st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2),
    contracts=st.integers(1, 500),
    outcome=st.sampled_from([0, 1]),
    pm_fee=st.sampled_from([0.0, 0.07]),
    fee=st.sampled_from([0.0, 0.002]),
)
def test_settlement_is_exact_for_any_price_and_size(price, contracts, outcome, pm_fee, fee):
    cost = CostModel(fee=fee, pm_fee=pm_fee, fee_step=0.01 if pm_fee else 0.0)
    cash = D(1000)
    ins = pm([price, price], [price, price], settle_at=1, payout=D(outcome))
    r = run_events(
        _idx(2),
        [ins],
        lambda b: b.buy("K:Yes", contracts) if b.i == 0 else None,
        cost,
        cash=cash,
        fill="close",
    )
    fee_paid = cost.fee_for(D(contracts), price)
    assert r.meta["final_cash"] == cash - contracts * price - fee_paid + contracts * D(outcome)
    assert r.trades.iloc[0]["pnl"] == r.meta["final_cash"] - cash
    assert r.final_equity == float(r.meta["final_cash"])


def test_book_fill_is_capped_by_depth_and_orders_after_settlement_are_rejected():
    ins = pm([0.30, 0.30, 0.30], [0.28, 0.28, 0.28], settle_at=1, payout=D(1), ask_size=[D(25), D(25), D(25)])
    seen = {}

    def on_bar(b: Broker) -> None:
        if b.i == 0:
            b.buy("K:Yes", 100)
        else:
            seen["late"] = b.buy("K:Yes", 1)

    r = run_events(_idx(3), [ins], on_bar, CostModel(), cash=D(100), fill="close")
    assert r.trades.iloc[0]["size"] == 25
    assert r.meta["final_cash"] == D(100) - 25 * D("0.30") + 25
    assert "late" not in seen  # nothing left to trade: the strategy is not called after resolution


def test_order_walks_the_book_levels_and_settles():
    from oneprice.core.types import Level, OrderBook

    ts = _idx(3)
    asks = [Level(D("0.40"), D(100)), Level(D("0.41"), D(100)), Level(D("0.43"), D(500))]
    book = OrderBook.build("kalshi", "K", "Yes", ts[0], [Level(D("0.38"), D(50))], asks)
    ins = Instrument("K:Yes", books=[book, book, None], settle_at=2, payout=D(1))
    cost = CostModel(pm_fee=0.07, fee_step=0.01)

    def on_bar(b: Broker) -> None:
        if b.i == 0:
            b.buy("K:Yes", 250, tag="walk")
            b.buy("K:Yes", 1000, limit=D("0.41"))  # rests; next bar fills only the levels at or below 0.41

    r = run_events(ts, [ins], on_bar, cost, cash=D(1000), fill="close")
    fills1 = [(D("0.40"), D(100)), (D("0.41"), D(100)), (D("0.43"), D(50))]
    fills2 = [(D("0.40"), D(100)), (D("0.41"), D(100))]
    exact = sum(D("0.07") * q * p * (1 - p) for p, q in fills1)
    fee1 = cost.fee_for_fills(fills1)
    assert fee1 == D("4.24") and exact < fee1 < exact + D("0.01")  # 4.23115 rounded up once per order
    fee2 = cost.fee_for_fills(fills2)
    paid = sum(p * q for p, q in fills1) + sum(p * q for p, q in fills2)
    t = r.trades.iloc[0]
    assert t["size"] == 450 and t["status"] == "settled"
    assert t["entry_price"] == paid / 450
    assert r.meta["final_cash"] == D(1000) - paid - fee1 - fee2 + 450
