"""Performance metrics of a :class:`BacktestResult`, and the same against a benchmark.

Returns are per bar (equity to equity); annualisation uses bars per year inferred from the median bar
spacing over a 365-day year (crypto and prediction markets trade every day). Risk-free rate is 0.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

if TYPE_CHECKING:
    from oneprice.backtest.result import BacktestResult

YEAR_S = 365.0 * 86400.0


def bars_per_year(index: Any) -> float:
    if len(index) < 2:
        return 365.0
    step = np.median(np.diff(index.as_unit("ns").asi8)) / 1e9
    return YEAR_S / step if step > 0 else 365.0


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@numba.njit(cache=True)
def _dd(eq: np.ndarray) -> tuple[float, int]:
    peak = -np.inf
    worst = 0.0
    since = 0
    longest = 0
    for i in range(eq.shape[0]):
        if eq[i] >= peak:
            peak = eq[i]
            since = i
        else:
            worst = min(worst, eq[i] / peak - 1.0)
            longest = max(longest, i - since)
    return worst, longest


@numba.njit(cache=True)
def _moments(eq: np.ndarray) -> tuple[float, float, float]:
    """Mean, sample std and downside deviation of bar-to-bar returns."""
    n = eq.shape[0] - 1
    s = 0.0
    for i in range(n):
        s += eq[i + 1] / eq[i] - 1.0
    mean = s / n
    v = 0.0
    d = 0.0
    for i in range(n):
        r = eq[i + 1] / eq[i] - 1.0
        v += (r - mean) * (r - mean)
        if r < 0:
            d += r * r
    return mean, np.sqrt(v / (n - 1)) if n > 1 else 0.0, np.sqrt(d / n)


def drawdown_stats(equity: np.ndarray) -> tuple[float, int]:
    """(max drawdown as a negative fraction, longest time under water in bars)."""
    if len(equity) == 0:
        return 0.0, 0
    worst, longest = _dd(np.ascontiguousarray(equity, dtype=np.float64))
    return float(worst), int(longest)


def series_stats(equity: np.ndarray, ppy: float) -> dict[str, float | None]:
    """Return, risk and drawdown figures of one equity curve."""
    eq = np.ascontiguousarray(equity, dtype=np.float64)
    if len(eq) < 2 or eq[0] <= 0 or not np.all(eq > 0):
        return {k: None for k in ("total_return", "annual_return", "volatility", "sharpe", "sortino")}
    total = eq[-1] / eq[0] - 1.0
    years = (len(eq) - 1) / ppy
    annual = (eq[-1] / eq[0]) ** (1.0 / years) - 1.0 if years > 0 else float("nan")
    mean, sd, downside = _moments(eq)
    return {
        "total_return": _finite(total),
        "annual_return": _finite(annual),
        "volatility": _finite(sd * math.sqrt(ppy)),
        "sharpe": _finite(mean / sd * math.sqrt(ppy)) if sd > 0 else None,
        "sortino": _finite(mean / downside * math.sqrt(ppy)) if downside > 0 else None,
    }


def compute_metrics(res: BacktestResult) -> dict[str, Any]:
    ppy = bars_per_year(res.index)
    out: dict[str, Any] = {"bars": len(res.equity), "bars_per_year": ppy}
    out["init_cash"] = float(res.init_cash)
    out["final_equity"] = res.final_equity
    out.update(series_stats(res.equity, ppy))
    mdd, mdd_bars = drawdown_stats(res.equity)
    out["max_drawdown"] = mdd
    out["max_drawdown_bars"] = mdd_bars
    out["max_drawdown_days"] = mdd_bars * 365.0 / ppy
    ann = out.get("annual_return")
    out["calmar"] = _finite(ann / -mdd) if ann is not None and mdd < 0 else None
    t = res.trades
    pnl = res.trade_pnl()
    wins, losses = pnl[pnl > 0].sum(), -pnl[pnl < 0].sum()
    out["trade_count"] = len(t)
    out["win_rate"] = float((pnl > 0).mean()) if len(pnl) else None
    out["profit_factor"] = _finite(wins / losses) if losses > 0 else None
    out["exposure"] = float(np.mean(res.position != 0)) if len(res.position) else 0.0
    if len(t):
        size = t["size"].to_numpy(dtype=np.float64)
        notional = size * t["entry_price"].to_numpy(dtype=np.float64)
        notional += np.nan_to_num(size * t["exit_price"].to_numpy(dtype=np.float64))
        out["turnover"] = float(notional.sum() / np.mean(res.equity))
    else:
        out["turnover"] = 0.0
    out["fees_paid"] = float(res.fees)
    if res.meta.get("benchmark", True):
        out.update(benchmark_stats(res, ppy))
    return out


def benchmark_stats(res: BacktestResult, ppy: float) -> dict[str, Any]:
    """Buy-and-hold of the traded price as the benchmark: its figures, excess return, beta, IR."""
    price = np.asarray(res.price, dtype=np.float64)
    if len(price) < 2 or not np.all(np.isfinite(price)) or price[0] <= 0:
        return {}
    b = series_stats(price, ppy)
    bmdd, _ = drawdown_stats(price)
    out: dict[str, Any] = {f"benchmark_{k}": v for k, v in b.items()}
    out["benchmark_max_drawdown"] = bmdd
    btr = b.get("total_return")
    total = series_stats(res.equity, ppy).get("total_return")
    out["excess_return"] = total - btr if total is not None and btr is not None else None
    r = np.diff(res.equity) / res.equity[:-1]
    rb = np.diff(price) / price[:-1]
    var = rb.var(ddof=1)
    out["beta"] = _finite(np.cov(r, rb, ddof=1)[0, 1] / var) if var > 0 else None
    active = r - rb
    sd = active.std(ddof=1)
    out["information_ratio"] = _finite(active.mean() / sd * math.sqrt(ppy)) if sd > 0 else None
    return out
