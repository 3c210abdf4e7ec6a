"""Support and resistance trendlines fitted to a window, and swing pivots.

The support line is the line below every low (of the last ``lookback`` bars) that lies closest to
them in total: minimising sum(low_i - line(x_i)) under line <= low is maximising the line's value at
the mean x, whose optimum is the edge of the lows' lower convex hull spanning the mean x. Resistance
is the mirror over the highs. Both are exact and deterministic (no optimiser, no tolerance).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Line:
    slope: float  # price units per bar
    intercept: float  # value at bar index 0 (of the whole window)
    touches: int  # bars within ``tol`` of the line
    anchors: tuple[int, int]  # the two bars (0-based, whole window) the line passes through

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


@dataclass(frozen=True)
class Trend:
    support: Line
    resistance: Line
    start: int  # first bar of the fitted span (0-based)
    close_slope: float  # least-squares slope of the closes over the span, price units per bar


def _hull_edge(x: np.ndarray, y: np.ndarray, lower: bool) -> tuple[int, int]:
    """Indices (into x) of the hull edge spanning mean(x): the lower hull if ``lower`` else the upper."""
    sign = 1.0 if lower else -1.0
    hull: list[int] = []
    for i in range(len(x)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (x[b] - x[a]) * (sign * y[i] - sign * y[a]) - (sign * y[b] - sign * y[a]) * (x[i] - x[a])
            if cross <= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    xm = float(x.mean())
    for a, b in itertools.pairwise(hull):
        if x[a] <= xm <= x[b]:
            return a, b
    return hull[0], hull[-1]


def _line(x: np.ndarray, y: np.ndarray, lower: bool, tol: float) -> Line:
    a, b = _hull_edge(x, y, lower)
    slope = float((y[b] - y[a]) / (x[b] - x[a])) if x[b] != x[a] else 0.0
    icpt = float(y[a] - slope * x[a])
    touches = int((np.abs(y - (icpt + slope * x)) <= tol).sum())
    return Line(slope, icpt, touches, (int(x[a]), int(x[b])))


def fit(high: np.ndarray, low: np.ndarray, close: np.ndarray, lookback: int = 45, tol: float = 0.0) -> Trend:
    """Trendlines over the last ``lookback`` bars; ``tol`` (price units) counts a bar as a touch."""
    n = len(close)
    start = max(0, n - lookback)
    x = np.arange(start, n, dtype=np.float64)
    sup = _line(x, low[start:], True, tol)
    res = _line(x, high[start:], False, tol)
    cs = float(np.polyfit(x, close[start:], 1)[0]) if n - start >= 2 else 0.0
    return Trend(sup, res, start, cs)


def pivots(y: np.ndarray, order: int, highs: bool) -> list[int]:
    """Bars that are the strict extreme of the ``order`` bars on each side (plateaus: the first bar)."""
    out = []
    for i in range(order, len(y) - order):
        seg = y[i - order : i + order + 1]
        ext = seg.max() if highs else seg.min()
        if y[i] == ext and int(np.argmax(seg == ext)) == order:
            out.append(i)
    return out
