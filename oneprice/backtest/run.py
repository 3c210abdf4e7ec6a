"""Run a registered bar strategy on either engine and get a :class:`BacktestResult`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from oneprice.backtest.costs import CostModel
from oneprice.backtest.data import Bars
from oneprice.backtest.events import Broker, Instrument, Order, run_events
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
    stop_loss: float = 0.0,
    take_profit: float = 0.0,
) -> BacktestResult:
    """Backtest ``strategy`` on ``bars``: targets from the strategy, fills and fees from the engine.

    ``stop_loss`` / ``take_profit`` (fractions of the entry price, event engine) bracket every position
    with a stop order and a limit order; whichever fills first closes it, the other is cancelled.
    """
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
    if stop_loss or take_profit:
        if engine != "event":
            raise ValueError("stop_loss and take_profit need the event engine (--engine event)")
        if not (0 <= stop_loss < 1 and take_profit >= 0):
            raise ValueError(
                "stop_loss must be in [0, 1) and take_profit >= 0 (fractions of the entry price)"
            )
        meta.update(stop_loss=stop_loss, take_profit=take_profit)
    if engine == "vector":
        return run_targets(bars, target, cost, cash, fill, unit, frac, meta)
    if frac != 1.0:
        raise ValueError("the event engine runs targets all-in (frac=1)")
    name = bars.symbol or "asset"

    exits: list[Order] = []

    def on_bar(b: Broker) -> None:
        t = target[b.i]
        pos = b.position(name)
        side = int(pos > 0) - int(pos < 0)
        if not np.isnan(t) and t != side:
            for o in exits:
                b.cancel(o)
            exits.clear()
            b.target(name, t)
            pos = b.position(name)
        if any(o.status == "filled" for o in exits):  # one bracket leg closed the position
            for o in exits:
                b.cancel(o)
            exits.clear()
        if pos != 0 and not exits and (stop_loss or take_profit):
            entry, d = b.entry_price(name), 1 if pos > 0 else -1
            if stop_loss:
                exits.append(
                    b._place(name, -d, abs(pos), None, entry * (1 - d * stop_loss), "stop loss", True)
                )
            if take_profit:
                exits.append(
                    b._place(name, -d, abs(pos), entry * (1 + d * take_profit), None, "take profit", True)
                )

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
