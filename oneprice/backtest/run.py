"""Run a registered bar strategy on either engine and get a :class:`BacktestResult`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from oneprice.backtest.costs import CostModel
from oneprice.backtest.data import Bars
from oneprice.backtest.events import Broker, Instrument, run_events
from oneprice.backtest.result import BacktestResult, trade_pnl, trades_frame
from oneprice.backtest.strategies import get_strategy
from oneprice.backtest.vector import simulate

ENGINES = ("vector", "event")


def backtest(
    bars: Bars,
    strategy: str,
    params: dict[str, Any] | None = None,
    cost: CostModel | None = None,
    cash: float = 10_000.0,
    fill: str = "close",
    engine: str = "vector",
    unit: float = 0.0,
    frac: float = 1.0,
    signal: np.ndarray | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``bars``: targets from the strategy, fills and fees from the engine."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if len(bars) == 0:
        raise ValueError("no bars to backtest")
    strat = get_strategy(strategy)
    p = strat.resolve(params)
    cost = cost or CostModel()
    target = strat.targets(bars, p, signal)
    meta = {
        "strategy": strategy,
        "params": p,
        "fill": fill,
        "engine": engine,
        "symbol": bars.symbol,
        "timeframe": bars.timeframe,
        "exchange": bars.exchange,
        "unit": unit,
        "cost": {"fee": cost.fee, "fixed": cost.fixed, "slippage": cost.slippage},
    }
    if engine == "vector":
        return run_targets(bars, target, cost, cash, fill, unit, frac, meta)
    if frac != 1.0:
        raise ValueError("the event engine runs targets all-in (frac=1)")
    name = bars.symbol or "asset"

    def on_bar(b: Broker) -> None:
        t = target[b.i]
        if not np.isnan(t):
            b.target(name, t)

    ins = Instrument(name, bars.open, bars.high, bars.low, bars.close)
    short = bool(p.get("short"))
    return run_events(bars.index, [ins], on_bar, cost, float(cash), fill, unit, short, bars.close, meta)


def run_targets(
    bars: Bars,
    target: np.ndarray,
    cost: CostModel,
    cash: float = 10_000.0,
    fill: str = "close",
    unit: float = 0.0,
    frac: float = 1.0,
    meta: dict[str, Any] | None = None,
) -> BacktestResult:
    """The vectorised engine on a target array."""
    equity, position, tri, trf, fees = simulate(bars.open, bars.close, target, cost, cash, fill, unit, frac)
    last, name = float(bars.close[-1]), bars.symbol or "asset"

    def trades() -> pd.DataFrame:
        return trades_frame(bars.index, tri, trf, last, name)

    return BacktestResult(
        bars.index,
        equity,
        position,
        trades,
        fees,
        float(cash),
        bars.close,
        dict(meta or {}),
        pnl=trade_pnl(tri, trf, last),
    )
