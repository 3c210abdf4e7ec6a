"""Indicators over a window of bars with TA-Lib, warm-up left out (never zero-filled).

Every indicator is computed over all bars given; only the values TA-Lib marks valid (not NaN) are
reported. ``Indicators.latest`` holds the last valid value of each series, with the number of valid
values behind it, so an agent reads "RSI14 61.2 (rising over 3 bars)" and never a fabricated 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import talib

from oneprice.agents.window import Window

# name -> minimum bars for at least one valid value (TA-Lib's lookback + 1)
MIN_BARS = {"rsi": 15, "macd": 34, "stoch": 17, "roc": 11, "willr": 14, "atr": 15, "bb": 20}


@dataclass(frozen=True)
class Indicators:
    series: dict[str, np.ndarray]  # full-length arrays, NaN in the warm-up
    latest: dict[str, float] = field(default_factory=dict)  # last valid value of each series
    valid: dict[str, int] = field(default_factory=dict)  # how many valid values each series has

    def slope(self, name: str, bars: int = 3) -> float | None:
        """Change of a series over its last ``bars`` valid values (None when too few are valid)."""
        s = self.series[name]
        v = s[~np.isnan(s)]
        if len(v) <= bars:
            return None
        return float(v[-1] - v[-1 - bars])


def compute(w: Window) -> Indicators:
    """RSI(14), MACD(12, 26, 9), slow stochastic (14, 3, 3), ROC(10), Williams %R(14), ATR(14), BB(20, 2)."""
    h, lo, c = w.high, w.low, w.close
    macd, macd_sig, macd_hist = talib.MACD(c, 12, 26, 9)
    k, d = talib.STOCH(
        h, lo, c, fastk_period=14, slowk_period=3, slowk_matype=talib.MA_Type.SMA, slowd_period=3
    )
    up, mid, dn = talib.BBANDS(c, timeperiod=20, nbdevup=2.0, nbdevdn=2.0, matype=talib.MA_Type.SMA)
    series = {
        "rsi": talib.RSI(c, 14),
        "macd": macd,
        "macd_signal": macd_sig,
        "macd_hist": macd_hist,
        "stoch_k": k,
        "stoch_d": d,
        "roc": talib.ROC(c, 10),
        "willr": talib.WILLR(h, lo, c, 14),
        "atr": talib.ATR(h, lo, c, 14),
        "bb_upper": up,
        "bb_mid": mid,
        "bb_lower": dn,
    }
    latest: dict[str, float] = {}
    valid: dict[str, int] = {}
    for name, s in series.items():
        ok = ~np.isnan(s)
        valid[name] = int(ok.sum())
        if valid[name]:
            latest[name] = float(s[ok][-1])
    return Indicators(series, latest, valid)


def features(ind: Indicators, w: Window) -> dict[str, float]:
    """Scale-free features of the last bar for the fitted baselines (NaN where a series has no value)."""
    c = float(w.close[-1])
    g = ind.latest.get
    nan = float("nan")
    atr = g("atr", nan)
    bb_w = g("bb_upper", nan) - g("bb_lower", nan)
    return {
        "rsi": g("rsi", nan),
        "macd_hist_atr": g("macd_hist", nan) / atr if atr else nan,
        "stoch_k": g("stoch_k", nan),
        "stoch_kd": g("stoch_k", nan) - g("stoch_d", nan),
        "roc": g("roc", nan),
        "willr": g("willr", nan),
        "atr_pct": 100 * atr / c if c else nan,
        "bb_pos": (c - g("bb_lower", nan)) / bb_w if bb_w else nan,
        "ret1": 100 * (c / float(w.close[-2]) - 1) if len(w.close) > 1 else nan,
        "ret5": 100 * (c / float(w.close[-6]) - 1) if len(w.close) > 5 else nan,
    }
