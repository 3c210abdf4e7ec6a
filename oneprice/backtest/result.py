"""The one result type both engines return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

TRADE_COLUMNS = [
    "instrument",
    "direction",
    "size",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "entry_fee",
    "exit_fee",
    "pnl",
    "return",
    "status",
]


@dataclass
class BacktestResult:
    """Equity and position per bar, trades (one row per round trip), fees, and what produced them.

    ``equity`` marks open positions to the bar's close (or a quote's mid), with no exit fee.
    ``trades.status`` is ``closed``, ``open`` (still held at the end, marked at the last price) or
    ``settled`` (a prediction-market contract paid 0 or 1 at resolution).
    """

    index: pd.DatetimeIndex
    equity: np.ndarray
    position: np.ndarray
    trades_data: pd.DataFrame | Callable[[], pd.DataFrame]
    fees: float
    init_cash: float
    price: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    pnl: np.ndarray | None = None  # per-trade P&L, when known without building the trades table
    _metrics: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def trades(self) -> pd.DataFrame:
        """One row per round trip (built on first use)."""
        if callable(self.trades_data):
            self.trades_data = self.trades_data()
        return self.trades_data

    def trade_pnl(self) -> np.ndarray:
        if self.pnl is None:
            self.pnl = self.trades["pnl"].to_numpy(dtype=np.float64) if len(self.trades) else np.zeros(0)
        return self.pnl

    @property
    def final_equity(self) -> float:
        return float(self.equity[-1]) if len(self.equity) else float(self.init_cash)

    def equity_series(self) -> pd.Series:
        return pd.Series(self.equity, index=self.index, name="equity")

    def drawdown(self) -> np.ndarray:
        peak = np.maximum.accumulate(self.equity)
        return self.equity / peak - 1.0

    def metrics(self) -> dict[str, Any]:
        if self._metrics is None:
            from oneprice.backtest.metrics import compute_metrics

            self._metrics = compute_metrics(self)
        return self._metrics


def trades_frame(
    index: pd.DatetimeIndex,
    tri: np.ndarray,
    trf: np.ndarray,
    last_price: float,
    instrument: str,
) -> pd.DataFrame:
    """Trades from the vectorised kernel's arrays (open trades are marked at ``last_price``)."""
    n = len(tri)
    if n == 0:
        return empty_trades()
    entry_i, exit_i, direction = tri[:, 0], tri[:, 1], tri[:, 2].astype(np.float64)
    size, entry_p, exit_p, entry_f, exit_f = (trf[:, j] for j in range(5))
    is_open = exit_i < 0
    pnl = trade_pnl(tri, trf, last_price)
    exit_time = index[np.maximum(exit_i, 0)].where(~is_open, pd.NaT)
    return pd.DataFrame(
        {
            "instrument": pd.Series([instrument] * n, dtype=object),
            "direction": pd.Series(np.where(direction > 0, "long", "short"), dtype=object),
            "size": size,
            "entry_time": index[entry_i],
            "entry_price": entry_p,
            "exit_time": exit_time,
            "exit_price": exit_p,
            "entry_fee": entry_f,
            "exit_fee": np.nan_to_num(exit_f),
            "pnl": pnl,
            "return": pnl / (size * entry_p),
            "status": pd.Series(np.where(is_open, "open", "closed"), dtype=object),
        }
    )


def trade_pnl(tri: np.ndarray, trf: np.ndarray, last_price: float) -> np.ndarray:
    """Per-trade P&L from the kernel's arrays, open trades marked at ``last_price``."""
    is_open = tri[:, 1] < 0
    mark = np.where(is_open, last_price, trf[:, 2])
    size = trf[:, 0]
    return (size * mark - size * trf[:, 1]) * tri[:, 2] - trf[:, 3] - np.nan_to_num(trf[:, 4])


def empty_trades() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in TRADE_COLUMNS})
