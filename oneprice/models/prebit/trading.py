"""Trading rules on the fused probabilities, backtested with fees by ``oneprice.backtest``.

A prediction made at day t's close is stamped at that close (t + 1 day, 00:00 UTC) and is read by the
backtester's ``signal`` strategy on bar t, filled at its close: the position covers day t + 1 only.

Rules at threshold theta:
- ``risk_off``: hold BTC, and stay out for the next day whenever P(extreme down) > theta
  (signal ``1 - P(down)``, long at or above ``1 - theta``);
- ``long_up``: long only for a day after P(extreme up) >= theta (signal ``P(up)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from oneprice.backtest import Bars, CostModel, backtest
from oneprice.backtest.strategies import align_signal

RULES = ("risk_off", "long_up")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
DAY = pd.Timedelta(days=1)
KEEP = ("trade_count", "total_return", "sharpe", "max_drawdown", "exposure", "fees_paid")


def signal_series(p_up: pd.Series, p_down: pd.Series) -> dict[str, pd.Series]:
    """The stored series, stamped at the close of the day they were predicted on."""
    up = p_up.set_axis(p_up.index + DAY)
    down = p_down.set_axis(p_down.index + DAY)
    return {"prebit_up": up, "prebit_down": down, "prebit_hold": 1.0 - down}


def rule_params(rule: str, theta: float) -> tuple[str, dict[str, float]]:
    """The signal source and ``signal`` strategy parameters that implement ``rule`` at ``theta``."""
    if not 0.0 < theta < 1.0:
        raise ValueError("threshold must be between 0 and 1")
    if rule == "risk_off":
        return "prebit_hold", {"entry": 1.0 - theta, "exit": 1.0 - theta}
    if rule == "long_up":
        return "prebit_up", {"entry": theta, "exit": theta}
    raise ValueError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")


def _summary(res: Any) -> dict[str, Any]:
    m = res.metrics()
    return {k: (None if m.get(k) is None else round(float(m[k]), 4)) for k in KEEP}


def backtest_rules(
    bars: Bars,
    p_up: pd.Series,
    p_down: pd.Series,
    thresholds: tuple[float, ...] = THRESHOLDS,
    fee: float = 0.001,
    sma: tuple[int, int] = (10, 50),
) -> dict[str, Any]:
    """Each rule at each threshold, with buy-and-hold and an SMA crossover on the same bars and fees."""
    cost = CostModel(fee=fee)
    series = signal_series(p_up, p_down)
    out: dict[str, Any] = {
        "buy_hold": _summary(backtest(bars, "buy_hold", {}, cost)),
        f"sma_{sma[0]}_{sma[1]}": _summary(backtest(bars, "sma", {"fast": sma[0], "slow": sma[1]}, cost)),
        "rules": {},
    }
    for rule in RULES:
        for theta in thresholds:
            source, params = rule_params(rule, theta)
            s = series[source]
            sig = align_signal(bars, pd.DatetimeIndex(s.index), s.to_numpy(np.float64), DAY.total_seconds())
            res = backtest(bars, "signal", params, cost, signal=sig)
            out["rules"].setdefault(rule, {})[f"{theta:g}"] = _summary(res)
    return out
