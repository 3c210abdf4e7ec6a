"""Indicators compiled with numba: SMA, rolling std, RSI (Wilder), crossings.

Each returns NaN until its window is full, like ``pandas.Series.rolling(n).mean()``.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def sma(x: np.ndarray, n: int) -> np.ndarray:
    """Simple moving average over ``n`` bars (running sum; NaN for the first n-1 bars)."""
    out = np.full(x.shape[0], np.nan)
    if n <= 0 or n > x.shape[0]:
        return out
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        if i >= n:
            s -= x[i - n]
        if i >= n - 1:
            out[i] = s / n
    return out


@numba.njit(cache=True)
def rolling_std(x: np.ndarray, n: int) -> np.ndarray:
    """Population standard deviation over ``n`` bars (two-pass per window, exact enough for prices)."""
    out = np.full(x.shape[0], np.nan)
    if n <= 0 or n > x.shape[0]:
        return out
    for i in range(n - 1, x.shape[0]):
        m = 0.0
        for j in range(i - n + 1, i + 1):
            m += x[j]
        m /= n
        v = 0.0
        for j in range(i - n + 1, i + 1):
            v += (x[j] - m) * (x[j] - m)
        out[i] = np.sqrt(v / n)
    return out


@numba.njit(cache=True)
def rsi(x: np.ndarray, n: int) -> np.ndarray:
    """Relative Strength Index with Wilder's smoothing; NaN for the first ``n`` bars."""
    out = np.full(x.shape[0], np.nan)
    if n <= 0 or x.shape[0] <= n:
        return out
    gain = 0.0
    loss = 0.0
    for i in range(1, n + 1):
        d = x[i] - x[i - 1]
        if d > 0:
            gain += d
        else:
            loss -= d
    gain /= n
    loss /= n
    for i in range(n, x.shape[0]):
        if i > n:
            d = x[i] - x[i - 1]
            gain = (gain * (n - 1) + (d if d > 0 else 0.0)) / n
            loss = (loss * (n - 1) + (-d if d < 0 else 0.0)) / n
        if loss == 0.0:
            out[i] = 100.0 if gain > 0 else 50.0
        else:
            out[i] = 100.0 - 100.0 / (1.0 + gain / loss)
    return out


@numba.njit(cache=True)
def cross_targets(a: np.ndarray, b: np.ndarray, down_target: float) -> np.ndarray:
    """Targets from crossings of ``a`` over ``b``: 1 where ``a`` crosses above, ``down_target`` where
    it crosses below, NaN (hold) elsewhere. A crossing needs a strict side on both bars; bars where
    ``a == b`` keep the previous side (so below, equal, above is one upward crossing)."""
    out = np.full(a.shape[0], np.nan)
    side = 0  # -1 below, +1 above, 0 unknown
    for i in range(a.shape[0]):
        if np.isnan(a[i]) or np.isnan(b[i]):
            side = 0
            continue
        if a[i] > b[i]:
            if side == -1:
                out[i] = 1.0
            side = 1
        elif a[i] < b[i]:
            if side == 1:
                out[i] = down_target
            side = -1
    return out
