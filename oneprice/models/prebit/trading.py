"""Trading rules on the fused probabilities (backtested with fees by ``services.signals``).

A prediction made at day t's close is stamped at that close (t + 1 day, 00:00 UTC) and is read by the
backtester's ``signal`` strategy on bar t, filled at its close: the position covers day t + 1 only.

Rules at threshold theta:
- ``risk_off``: hold BTC, and stay out for the next day whenever P(extreme down) > theta
  (signal ``1 - P(down)``, long at or above ``1 - theta``);
- ``long_up``: long only for a day after P(extreme up) >= theta (signal ``P(up)``).
"""

from __future__ import annotations

import pandas as pd

RULES = ("risk_off", "long_up")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
DAY = pd.Timedelta(days=1)


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
