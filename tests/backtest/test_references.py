"""Agreement with the reference libraries (installed with the `bench` extra) on real bars.

The full-size comparison with timings is bench/backtest.py; these run on 3,000 bars.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from oneprice.backtest import Bars, CostModel, backtest


@pytest.fixture
def bars(btc_all: Bars) -> Bars:
    return btc_all.slice(btc_all.index[5000], btc_all.index[7999])


def _frame(b: Bars) -> pd.DataFrame:
    return pd.DataFrame(
        {"Open": b.open, "High": b.high, "Low": b.low, "Close": b.close, "Volume": b.volume}, index=b.index
    )


def test_matches_backtesting_py_next_open_fractional(bars: Bars):
    pytest.importorskip("backtesting")
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest, crossover

    class SmaCross(Strategy):
        def init(self) -> None:
            self.f = self.I(lambda c: pd.Series(c).rolling(10).mean(), self.data.Close)
            self.s = self.I(lambda c: pd.Series(c).rolling(50).mean(), self.data.Close)

        def next(self) -> None:
            if crossover(self.f, self.s) and not self.position:
                self.buy()
            elif crossover(self.s, self.f) and self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = FractionalBacktest(_frame(bars), SmaCross, cash=10_000, commission=0.001).run()
    ref = stats["_trades"]
    ours = backtest(
        bars, "sma", {"fast": 10, "slow": 50}, CostModel(fee=0.001), 10_000, "next_open", unit=1e-8
    )
    closed = ours.trades[ours.trades["status"] == "closed"]
    assert len(closed) == len(ref) > 20
    assert (pd.DatetimeIndex(closed["entry_time"]) == pd.DatetimeIndex(ref["EntryTime"])).all()
    assert (pd.DatetimeIndex(closed["exit_time"]) == pd.DatetimeIndex(ref["ExitTime"])).all()
    np.testing.assert_allclose(closed["entry_price"], ref["EntryPrice"], rtol=1e-12)
    np.testing.assert_allclose(closed["exit_price"], ref["ExitPrice"], rtol=1e-12)
    np.testing.assert_allclose(closed["size"], ref["Size"], rtol=1e-9)
    assert ours.final_equity == pytest.approx(stats["Equity Final [$]"], rel=1e-9)


@pytest.mark.slow
def test_matches_vectorbt_close_fill(bars: Bars):
    vbt = pytest.importorskip("vectorbt")
    close = pd.Series(bars.close, index=bars.index)
    f, s = vbt.MA.run(close, 10), vbt.MA.run(close, 50)
    pf = vbt.Portfolio.from_signals(
        close, f.ma_crossed_above(s), f.ma_crossed_below(s), fees=0.001, init_cash=10_000
    )
    rec = pf.trades.records
    ours = backtest(bars, "sma", {"fast": 10, "slow": 50}, CostModel(fee=0.001), 10_000, "close")
    t = ours.trades
    assert len(t) == len(rec) > 20
    assert (pd.DatetimeIndex(t["entry_time"]) == close.index[rec["entry_idx"]]).all()
    np.testing.assert_allclose(t["entry_price"], rec["entry_price"], rtol=1e-12)
    np.testing.assert_allclose(t["size"], rec["size"], rtol=1e-12)
    assert ours.final_equity == pytest.approx(pf.final_value(), rel=1e-12)
