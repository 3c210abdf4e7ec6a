"""Bar strategies and their registry.

To add a strategy: write a function ``(bars, params, signal) -> targets`` (+1 long, -1 short, 0 flat,
NaN hold, one per bar) and register it with ``@strategy(name, help, **params)``. Every registered
strategy runs on both engines: the vectorised kernel, or the event engine through ``Broker.target``.
Order-level strategies (stops, limits, books) are event-engine callbacks (see ``convergence.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oneprice.backtest import indicators as ind
from oneprice.backtest.data import Bars
from oneprice.core.errors import InputError

Targets = Callable[[Bars, dict[str, Any], "np.ndarray | None"], np.ndarray]


@dataclass(frozen=True)
class Param:
    default: float
    kind: type = float
    lo: float | None = None
    hi: float | None = None
    help: str = ""

    def schema(self) -> dict[str, Any]:
        return {
            "type": self.kind.__name__,
            "default": self.default,
            "min": self.lo,
            "max": self.hi,
            "help": self.help,
        }


@dataclass(frozen=True)
class Strategy:
    name: str
    help: str
    targets: Targets
    params: dict[str, Param] = field(default_factory=dict)
    needs_signal: bool = False
    check: Callable[[dict[str, Any]], str | None] | None = None

    def schema(self) -> dict[str, Any]:
        return {
            "help": self.help,
            "needs_signal": self.needs_signal,
            "params": {k: p.schema() for k, p in self.params.items()},
        }

    def resolve(self, given: dict[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with ``given`` (strings allowed), type-checked and range-checked."""
        out: dict[str, Any] = {k: p.default for k, p in self.params.items()}
        for k, v in (given or {}).items():
            if k not in self.params:
                raise ValueError(
                    f"strategy {self.name!r} has no parameter {k!r}; "
                    f"parameters: {', '.join(self.params) or 'none'}"
                )
            p = self.params[k]
            try:
                val = p.kind(float(v)) if p.kind is int and float(v) == int(float(v)) else p.kind(v)
            except (TypeError, ValueError):
                raise ValueError(f"parameter {k}={v!r} is not a {p.kind.__name__}") from None
            if (p.lo is not None and val < p.lo) or (p.hi is not None and val > p.hi):
                raise ValueError(f"parameter {k}={val} outside [{p.lo}, {p.hi}]")
            out[k] = val
        if self.check and (msg := self.check(out)):
            raise ValueError(f"strategy {self.name!r}: {msg}")
        return out


STRATEGIES: dict[str, Strategy] = {}


def strategy(
    name: str,
    help: str,
    needs_signal: bool = False,
    check: Callable[[dict[str, Any]], str | None] | None = None,
    **params: Param,
) -> Callable[[Targets], Targets]:
    def deco(fn: Targets) -> Targets:
        STRATEGIES[name] = Strategy(name, help, fn, params, needs_signal, check)
        return fn

    return deco


def get_strategy(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise InputError(f"unknown strategy {name!r}; available: {', '.join(sorted(STRATEGIES))}")
    return STRATEGIES[name]


def _down(p: dict[str, Any]) -> float:
    return -1.0 if p.get("short") else 0.0


@strategy("buy_hold", "Buy on the first bar and hold to the end.")
def buy_hold(bars: Bars, p: dict[str, Any], signal: np.ndarray | None = None) -> np.ndarray:
    t = np.full(len(bars), np.nan)
    if len(t):
        t[0] = 1.0
    return t


@strategy(
    "sma",
    "SMA crossover: long when the fast average crosses above the slow, out (or short) when below.",
    check=lambda p: None if p["fast"] < p["slow"] else "fast must be < slow",
    fast=Param(10, int, 1, 10_000, "fast window (bars)"),
    slow=Param(50, int, 2, 10_000, "slow window (bars)"),
    short=Param(0, int, 0, 1, "1: go short on the downward crossing"),
)
def sma_cross(bars: Bars, p: dict[str, Any], signal: np.ndarray | None = None) -> np.ndarray:
    return ind.cross_targets(
        ind.sma(bars.close, int(p["fast"])), ind.sma(bars.close, int(p["slow"])), _down(p)
    )


@strategy(
    "rsi",
    "RSI mean reversion: buy when RSI falls below `lower`, sell when it rises above `upper`.",
    check=lambda p: None if p["lower"] < p["upper"] else "lower must be < upper",
    period=Param(14, int, 2, 1000, "RSI period (bars, Wilder smoothing)"),
    lower=Param(30.0, float, 0, 100, "oversold level: enter long below it"),
    upper=Param(70.0, float, 0, 100, "overbought level: exit above it"),
    short=Param(0, int, 0, 1, "1: go short above `upper`"),
)
def rsi_reversion(bars: Bars, p: dict[str, Any], signal: np.ndarray | None = None) -> np.ndarray:
    r = ind.rsi(bars.close, int(p["period"]))
    return np.where(r < p["lower"], 1.0, np.where(r > p["upper"], _down(p), np.nan))


@strategy(
    "bollinger",
    "Bollinger bands mean reversion: buy below the lower band, exit at the middle band.",
    window=Param(20, int, 2, 10_000, "window (bars)"),
    k=Param(2.0, float, 0.1, 10, "band width in standard deviations"),
)
def bollinger(bars: Bars, p: dict[str, Any], signal: np.ndarray | None = None) -> np.ndarray:
    c = bars.close
    mid = ind.sma(c, int(p["window"]))
    sd = ind.rolling_std(c, int(p["window"]))
    return np.where(c < mid - p["k"] * sd, 1.0, np.where(c >= mid, 0.0, np.nan))


@strategy(
    "signal",
    "Signal-driven: long while the stored signal is >= `entry`, flat when <= `exit` (short below -entry).",
    needs_signal=True,
    check=lambda p: None if p["exit"] <= p["entry"] else "exit must be <= entry",
    entry=Param(0.5, float, None, None, "enter long at or above this value"),
    exit=Param(0.0, float, None, None, "exit at or below this value"),
    short=Param(0, int, 0, 1, "1: short at or below -entry"),
)
def signal_driven(bars: Bars, p: dict[str, Any], signal: np.ndarray | None = None) -> np.ndarray:
    if signal is None:
        raise ValueError("the signal strategy needs a signal series")
    t = np.where(signal >= p["entry"], 1.0, np.where(signal <= p["exit"], 0.0, np.nan))
    if p.get("short"):
        t = np.where(signal <= -p["entry"], -1.0, t)
    return np.where(np.isnan(signal), np.nan, t)


def align_signal(bars: Bars, ts: pd.DatetimeIndex, values: np.ndarray, bar_seconds: float) -> np.ndarray:
    """The latest signal known at each bar's close (ts <= open + bar length): no look-ahead."""
    closes = bars.index + pd.Timedelta(seconds=bar_seconds)
    pos = np.searchsorted(ts.as_unit("ns").asi8, closes.as_unit("ns").asi8, side="right") - 1
    out = (
        np.where(pos >= 0, values[np.clip(pos, 0, None)], np.nan)
        if len(values)
        else np.full(len(bars), np.nan)
    )
    return out.astype(np.float64)
