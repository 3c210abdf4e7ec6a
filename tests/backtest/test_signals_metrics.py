"""Signals table and the signal-driven strategy (no look-ahead); metrics against hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from oneprice.backtest import Bars, CostModel, backtest
from oneprice.backtest.metrics import compute_metrics, drawdown_stats
from oneprice.backtest.result import BacktestResult, empty_trades
from oneprice.backtest.store import read_signals, write_signals
from oneprice.core.errors import NotFoundError
from oneprice.services import backtest as svc
from oneprice.services.container import build_services

from .conftest import insert_bars


def test_signals_upsert_is_idempotent_and_lists_sources(engine: Engine):
    ts = pd.date_range("2023-01-01", periods=3, freq="1h", tz="UTC")
    pts = [(t.to_pydatetime(), v) for t, v in zip(ts, [0.1, 0.9, -0.4], strict=True)]
    assert write_signals(engine, "finbert", "BTC/USDT", pts) == 3
    assert write_signals(engine, "finbert", "BTC/USDT", pts) == 0
    assert write_signals(engine, "finbert", "BTC/USDT", [(pts[1][0], 0.7)]) == 1
    s = read_signals(engine, "finbert", "BTC/USDT")
    assert s.tolist() == [0.1, 0.7, -0.4] and s.index[0] == ts[0]
    with pytest.raises(NotFoundError, match="stored \\(source:key\\): finbert:BTC/USDT"):
        read_signals(engine, "agent", "BTC/USDT")


def test_signal_strategy_acts_only_on_signals_known_at_the_bar_close(sqlite_engine: Engine, btc: Bars):
    bars = btc.slice(btc.index[0], btc.index[99])
    insert_bars(sqlite_engine, bars)
    # a signal stamped 10:30 is known at the close of the 10:00 bar (11:00), not before
    t_on = bars.index[10] + pd.Timedelta(minutes=30)
    t_off = bars.index[40] + pd.Timedelta(minutes=59)
    write_signals(
        sqlite_engine, "agent", "BTC/USDT", [(t_on.to_pydatetime(), 1.0), (t_off.to_pydatetime(), -1.0)]
    )
    url = sqlite_engine.url.render_as_string(hide_password=False)
    out = svc.run_backtest(
        build_services(db_url=url),
        "signal",
        "BTC/USDT",
        "1h",
        None,
        None,
        0.0,
        {"entry": 0.5, "exit": 0.0},
        signal_source="agent",
    )
    (t,) = out.trades
    assert t["entry_time"] == bars.index[10].isoformat() and t["exit_time"] == bars.index[40].isoformat()
    assert t["entry_price"] == bars.close[10] and t["exit_price"] == bars.close[40]


def _result(
    equity: list[float], pnl: list[float] | None = None, position: list[float] | None = None
) -> BacktestResult:
    idx = pd.date_range("2024-01-01", periods=len(equity), freq="1D", tz="UTC")
    trades = (
        empty_trades()
        if not pnl
        else pd.DataFrame(
            {
                "pnl": pnl,
                "size": [1.0] * len(pnl),
                "entry_price": [1.0] * len(pnl),
                "exit_price": [1.0] * len(pnl),
            }
        )
    )
    eq = np.array(equity, dtype=float)
    pos = np.array(position if position is not None else [1.0] * len(equity))
    return BacktestResult(idx, eq, pos, trades, 3.0, eq[0], eq.copy())


def test_metrics_by_hand():
    r = _result([100, 110, 99, 121, 121], pnl=[10, -5, 20], position=[0, 1, 1, 1, 0])
    m = compute_metrics(r)
    rets = np.array([0.1, -0.1, 121 / 99 - 1, 0.0])
    assert m["total_return"] == pytest.approx(0.21)
    assert m["bars_per_year"] == pytest.approx(365)
    assert m["annual_return"] == pytest.approx(1.21 ** (365 / 4) - 1)
    assert m["volatility"] == pytest.approx(rets.std(ddof=1) * math.sqrt(365))
    assert m["sharpe"] == pytest.approx(rets.mean() / rets.std(ddof=1) * math.sqrt(365))
    assert m["sortino"] == pytest.approx(
        rets.mean() / math.sqrt(np.mean(np.minimum(rets, 0) ** 2)) * math.sqrt(365)
    )
    assert m["max_drawdown"] == pytest.approx(-0.1)
    assert m["max_drawdown_bars"] == 1
    assert m["win_rate"] == pytest.approx(2 / 3)
    assert m["profit_factor"] == pytest.approx(30 / 5)
    assert m["exposure"] == pytest.approx(0.6)
    assert m["trade_count"] == 3 and m["fees_paid"] == 3.0
    assert m["benchmark_total_return"] == pytest.approx(0.21) and m["excess_return"] == pytest.approx(0)
    assert m["beta"] == pytest.approx(1.0)


def test_drawdown_duration_counts_bars_under_water():
    assert drawdown_stats(np.array([1, 2, 1.5, 1.8, 2.1, 1.0, 1.2])) == (pytest.approx(1.0 / 2.1 - 1), 2)


def test_buy_and_hold_tracks_the_benchmark(btc: Bars):
    r = backtest(btc, "buy_hold", {}, CostModel(fee=0.0))
    m = r.metrics()
    assert m["total_return"] == pytest.approx(m["benchmark_total_return"])
    assert m["exposure"] == 1.0 and m["trade_count"] == 1
