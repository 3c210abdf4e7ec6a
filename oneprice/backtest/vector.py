"""Vectorised engine: one numba pass over bars for position-based strategies.

A strategy gives a target per bar: +1 long, -1 short, 0 flat, NaN hold. On a change of side the
engine closes the open position and opens the new one with ``frac`` of cash (all-in by default),
fees and slippage from :class:`~oneprice.backtest.costs.CostModel`. Fill conventions:
``"close"`` fills at the signal bar's close (vectorbt's default), ``"next_open"`` at the next
bar's open (backtesting.py's default). ``unit`` > 0 trades whole multiples of ``unit`` (lots).
"""

from __future__ import annotations

import numba
import numpy as np

from oneprice.backtest.costs import CostModel, buy_all_nb, sell_size_nb

FILLS = ("close", "next_open")


@numba.njit(cache=True)
def _simulate(
    open_: np.ndarray,
    close: np.ndarray,
    target: np.ndarray,
    next_open: bool,
    fee: float,
    fixed: float,
    slip: float,
    cash0: float,
    unit: float,
    frac: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    n = close.shape[0]
    equity = np.empty(n)
    position = np.empty(n)
    cap = 1
    for i in range(n):
        if not np.isnan(target[i]):
            cap += 1  # each non-NaN target opens at most one trade
    tri = np.full((cap, 3), -1, dtype=np.int64)  # entry bar, exit bar, direction
    trf = np.full((cap, 5), np.nan)  # size, entry price, exit price, entry fee, exit fee
    k = 0
    cash = cash0
    pos = 0.0
    cur = 0.0
    pending = np.nan
    fees = 0.0
    for i in range(n):
        for phase in range(2):
            if phase == 0:
                if not next_open:
                    continue
                w = pending
                p = open_[i]
                pending = np.nan
            else:
                w = target[i]
                if next_open:
                    pending = w
                    continue
                p = close[i]
            if np.isnan(w) or w == cur:
                continue
            if cur != 0.0 and (w == 0.0 or (w > 0.0) != (cur > 0.0)):
                if pos > 0.0:
                    px = p * (1.0 - slip)
                    net, f = sell_size_nb(pos, px, fee, fixed)
                    cash += net
                else:
                    px = p * (1.0 + slip)
                    cost = -pos * px
                    f = cost * fee + fixed
                    cash -= cost + f
                tri[k, 1] = i
                trf[k, 2] = px
                trf[k, 4] = f
                fees += f
                k += 1
                pos = 0.0
                cur = 0.0
            if w != 0.0 and cur == 0.0:
                side = 1.0 if w > 0.0 else -1.0
                px = p * (1.0 + side * slip)
                avail = cash if frac * abs(w) >= 1.0 else cash * frac * abs(w)
                size, spent, f = buy_all_nb(avail, px, fee, fixed, unit)
                if size <= 0.0:
                    continue
                if side > 0.0:
                    cash -= spent
                else:
                    net, f = sell_size_nb(size, px, fee, fixed)
                    cash += net
                pos = side * size
                cur = side
                fees += f
                tri[k, 0] = i
                tri[k, 2] = int(side)
                trf[k, 0] = size
                trf[k, 1] = px
                trf[k, 3] = f
        equity[i] = cash + pos * close[i]
        position[i] = pos
    m = k + 1 if cur != 0.0 else k
    return equity, position, tri[:m], trf[:m], fees


def simulate(
    open_: np.ndarray,
    close: np.ndarray,
    target: np.ndarray,
    cost: CostModel,
    cash: float = 10_000.0,
    fill: str = "close",
    unit: float = 0.0,
    frac: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Run the kernel: returns (equity, position, int trade columns, float trade columns, fees)."""
    if fill not in FILLS:
        raise ValueError(f"unknown fill {fill!r}; choose one of {', '.join(FILLS)}")
    if not cost.linear:
        raise ValueError("the vectorised engine supports linear fees only; use the event engine")
    if cash <= 0:
        raise ValueError("cash must be > 0")
    return _simulate(
        np.ascontiguousarray(open_, dtype=np.float64),
        np.ascontiguousarray(close, dtype=np.float64),
        np.ascontiguousarray(target, dtype=np.float64),
        fill == "next_open",
        float(cost.fee),
        float(cost.fixed),
        float(cost.slippage),
        float(cash),
        float(unit),
        float(frac),
    )
