"""Both engines, one cost model: identical trades on strategies both express; hand-checked fills."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneprice.backtest import Bars, CostModel, backtest
from oneprice.backtest.run import run_targets

CASES = [
    ("sma", {"fast": 10, "slow": 50}),
    ("sma", {"fast": 5, "slow": 30, "short": 1}),
    ("rsi", {"period": 14, "lower": 30, "upper": 70}),
    ("bollinger", {"window": 20, "k": 2.0}),
    ("buy_hold", {}),
]


@pytest.mark.parametrize(("name", "params"), CASES)
@pytest.mark.parametrize("fill", ["close", "next_open"])
@pytest.mark.parametrize("unit", [0.0, 1e-3])
def test_vector_and_event_engines_make_identical_trades(
    btc: Bars, name: str, params: dict, fill: str, unit: float
):
    cost = CostModel(fee=0.001, slippage=0.0005)
    v = backtest(btc, name, params, cost, 10_000.0, fill, "vector", unit)
    e = backtest(btc, name, params, cost, 10_000.0, fill, "event", unit)
    assert len(v.trades) > 0
    cols = ["direction", "entry_time", "exit_time", "status"]
    pd.testing.assert_frame_equal(v.trades[cols].astype(str), e.trades[cols].astype(str))
    for c in ("size", "entry_price", "exit_price", "entry_fee", "exit_fee", "pnl"):
        np.testing.assert_array_equal(v.trades[c].to_numpy(float), e.trades[c].to_numpy(float), err_msg=c)
    np.testing.assert_array_equal(v.equity, e.equity)
    assert v.fees == e.fees


def _bars(close: list[float], open_: list[float] | None = None) -> Bars:
    idx = pd.date_range("2024-01-01", periods=len(close), freq="1h", tz="UTC")
    c = np.array(close, dtype=float)
    o = np.array(open_ if open_ is not None else close, dtype=float)
    return Bars(idx, o, np.maximum(o, c), np.minimum(o, c), c, np.ones(len(c)), "X/USD", "1h")


def test_close_fill_by_hand():
    bars = _bars([100, 110, 120, 90])
    t = np.array([1.0, np.nan, 0.0, np.nan])
    r = run_targets(bars, t, CostModel(fee=0.01), cash=1010.0)
    tr = r.trades.iloc[0]
    assert tr["size"] == pytest.approx(10.0)  # 1010 / 1.01 / 100
    assert tr.entry_fee == pytest.approx(10.0)
    assert tr.exit_price == 120 and tr.exit_fee == pytest.approx(12.0)
    assert r.final_equity == pytest.approx(1200 - 12)
    assert r.fees == pytest.approx(22.0)
    assert list(r.position) == pytest.approx([10, 10, 0, 0])


def test_next_open_fill_with_lots_and_open_trade():
    bars = _bars([100, 110, 120, 130], open_=[99, 105, 118, 125])
    t = np.array([1.0, np.nan, np.nan, np.nan])
    r = run_targets(bars, t, CostModel(fee=0.0), cash=1000.0, fill="next_open", unit=1.0)
    tr = r.trades.iloc[0]
    assert tr.entry_time == bars.index[1] and tr.entry_price == 105 and tr["size"] == 9  # floor(1000/105)
    assert tr.status == "open" and pd.isna(tr.exit_time)
    assert r.final_equity == pytest.approx(1000 - 9 * 105 + 9 * 130)
    assert tr.pnl == pytest.approx(9 * (130 - 105))


def test_short_pays_fees_both_ways():
    bars = _bars([100, 80])
    r = run_targets(bars, np.array([-1.0, 0.0]), CostModel(fee=0.001), cash=1000.0)
    tr = r.trades.iloc[0]
    assert tr.direction == "short"
    expected = tr["size"] * (100 - 80) - tr.entry_fee - tr.exit_fee
    assert tr.pnl == pytest.approx(expected)
    assert r.final_equity == pytest.approx(1000 + expected)


@settings(max_examples=40, deadline=None)
@given(
    moves=st.lists(st.floats(-0.2, 0.2), min_size=3, max_size=60),
    targets=st.lists(st.sampled_from([np.nan, np.nan, 1.0, 0.0, -1.0]), min_size=60, max_size=60),
    fee=st.floats(0, 0.01),
    slip=st.floats(0, 0.01),
    fill=st.sampled_from(["close", "next_open"]),
)
def test_money_is_conserved(moves, targets, fee, slip, fill):
    """Final equity = initial cash + the sum of every trade's P&L (fees included); fees add up."""
    close = 100 * np.cumprod(1 + np.array(moves))
    bars = _bars(list(close), open_=list(np.r_[100.0, close[:-1]]))
    t = np.array(targets[: len(close)])
    r = run_targets(bars, t, CostModel(fee=fee, slippage=slip), cash=1000.0, fill=fill)
    assert r.final_equity == pytest.approx(1000.0 + r.trades["pnl"].sum(), rel=1e-9, abs=1e-9)
    if len(r.trades):
        paid = r.trades["entry_fee"].sum() + r.trades["exit_fee"].sum()
        assert r.fees == pytest.approx(paid, rel=1e-9, abs=1e-12)
    assert np.all(np.isfinite(r.equity))


def test_stop_loss_and_take_profit_bracket_positions():
    # enter at the close of bar 0 (100); bar 2 trades through the 90 stop; no re-entry without a new signal
    bars = _bars([100, 97, 85, 120], open_=[100, 99, 95, 86])
    r = backtest(bars, "buy_hold", {}, CostModel(), 1000.0, "close", "event", stop_loss=0.1)
    (t,) = r.trades.itertuples()
    assert t.exit_time == bars.index[2] and t.exit_price == pytest.approx(90.0) and t.status == "closed"
    assert r.final_equity == pytest.approx(900.0)
    # take-profit at +10%: bar 3 opens at 86 and its high (120) reaches 110: limit fills at 110
    r = backtest(bars, "buy_hold", {}, CostModel(), 1000.0, "close", "event", take_profit=0.1)
    (t,) = r.trades.itertuples()
    assert t.exit_time == bars.index[3] and t.exit_price == pytest.approx(110.0)
    with pytest.raises(ValueError, match="event engine"):
        backtest(bars, "buy_hold", {}, CostModel(), stop_loss=0.1)


def test_brackets_on_real_bars_never_lose_more_than_the_stop_allows(btc: Bars):
    r = backtest(
        btc, "sma", {"fast": 10, "slow": 50}, CostModel(), 10_000.0, "next_open", "event", stop_loss=0.02
    )
    plain = backtest(btc, "sma", {"fast": 10, "slow": 50}, CostModel(), 10_000.0, "next_open", "event")
    closed = r.trades[r.trades["status"] == "closed"]
    worst = (closed["exit_price"] / closed["entry_price"] - 1).min()
    gap = (btc.open[1:] / btc.close[:-1] - 1).min()  # an open can gap below the stop
    assert worst >= -0.02 + min(gap, 0) - 1e-12
    assert (closed["exit_price"] <= closed["entry_price"] * 0.98 + 1e-9).sum() > 5  # stops did fire
    assert len(r.trades) >= len(plain.trades)
