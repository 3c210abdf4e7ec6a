"""Chart patterns detected geometrically from bars, each with the bars that form it.

Distances are measured in ATR (the window's own volatility), so one rule set fits BTC and the VIX.
Swing pivots are bars that are the extreme of ``order`` bars on each side. Patterns looked for are
those of QuantAgent's Pattern agent: double bottom / top, head and shoulders and its inverse,
rising / falling wedges, ascending / descending / symmetrical triangles, rectangles, bull / bear
flags and V-reversals. Only patterns whose last bar lies in the recent part of the window are kept.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from oneprice.agents.trend import pivots


@dataclass(frozen=True)
class Pattern:
    name: str
    bias: str  # bullish | bearish | neutral
    bars: tuple[int, ...]  # 1-based bars that form it (pivots, or the first and last bar of a span)

    def text(self) -> str:
        return f"{self.name} ({self.bias}) bars {','.join(map(str, self.bars))}"


def _slope(idx: list[int], y: np.ndarray) -> float:
    return float(np.polyfit(np.asarray(idx, dtype=float), y[idx], 1)[0]) if len(idx) >= 2 else 0.0


def _doubles(high: np.ndarray, low: np.ndarray, atr: float, order: int, recent: int) -> list[Pattern]:
    out = []
    n = len(high)
    for lows, y, name, bias in (
        (True, low, "double bottom", "bullish"),
        (False, high, "double top", "bearish"),
    ):
        piv = pivots(y, order, highs=not lows)
        for a, b in itertools.pairwise(piv):
            if b < n - recent or b - a < 5 or abs(y[a] - y[b]) > 0.5 * atr:
                continue
            mid = high[a : b + 1].max() if lows else low[a : b + 1].min()
            depth = (mid - max(y[a], y[b])) if lows else (min(y[a], y[b]) - mid)
            if depth >= 1.5 * atr:
                out.append(Pattern(name, bias, (a + 1, b + 1)))
    return out


def _head_shoulders(high: np.ndarray, low: np.ndarray, atr: float, order: int, recent: int) -> list[Pattern]:
    out = []
    n = len(high)
    for inverse, y in ((False, high), (True, low)):
        s = -1.0 if inverse else 1.0
        piv = pivots(y, order, highs=not inverse)
        for a, h, b in zip(piv, piv[1:], piv[2:], strict=False):
            if b < n - recent:
                continue
            ya, yh, yb = s * y[a], s * y[h], s * y[b]
            if yh - max(ya, yb) >= 1.0 * atr and abs(ya - yb) <= 0.75 * atr:
                name = "inverse head and shoulders" if inverse else "head and shoulders"
                out.append(Pattern(name, "bullish" if inverse else "bearish", (a + 1, h + 1, b + 1)))
    return out


def _converging(high: np.ndarray, low: np.ndarray, atr: float, span: int) -> list[Pattern]:
    """Triangles, wedges and rectangles from the pivots of the last ``span`` bars."""
    n = len(high)
    start = max(0, n - span)
    ph = [i for i in pivots(high, 2, True) if i >= start]
    pl = [i for i in pivots(low, 2, False) if i >= start]
    if len(ph) < 2 or len(pl) < 2:
        return []
    su, sl = _slope(ph, high) / atr, _slope(pl, low) / atr  # ATR per bar
    flat = 0.02
    width0 = high[ph[0]] - low[pl[0]]
    width1 = high[ph[-1]] - low[pl[-1]]
    converging = width1 < 0.8 * width0
    bars = (min(ph[0], pl[0]) + 1, max(ph[-1], pl[-1]) + 1)
    if abs(su) <= flat and abs(sl) <= flat:
        return [Pattern("rectangle", "neutral", bars)]
    if abs(su) <= flat and sl > flat:
        return [Pattern("ascending triangle", "bullish", bars)]
    if su < -flat and abs(sl) <= flat:
        return [Pattern("descending triangle", "bearish", bars)]
    if su < -flat and sl > flat:
        return [Pattern("symmetrical triangle", "neutral", bars)]
    if su > flat and sl > flat and converging:
        return [Pattern("rising wedge", "bearish", bars)]
    if su < -flat and sl < -flat and converging:
        return [Pattern("falling wedge", "bullish", bars)]
    if su > flat and sl > flat:
        return [Pattern("rising channel", "bullish", bars)]
    if su < -flat and sl < -flat:
        return [Pattern("falling channel", "bearish", bars)]
    return []


def _flags(close: np.ndarray, high: np.ndarray, low: np.ndarray, atr: float) -> list[Pattern]:
    """A pole (a move of at least 3 ATR in at most 8 bars) then 4-12 bars of tight drift against it."""
    n = len(close)
    for flag_len in range(4, 13):
        f0 = n - flag_len
        for pole_len in range(3, 9):
            p0 = f0 - pole_len
            if p0 < 0:
                break
            move = close[f0] - close[p0]
            rng = high[f0:].max() - low[f0:].min()
            drift = close[-1] - close[f0]
            if abs(move) >= 3 * atr and rng <= 0.5 * abs(move) and drift * move <= 0:
                up = move > 0
                return [
                    Pattern("bull flag" if up else "bear flag", "bullish" if up else "bearish", (p0 + 1, n))
                ]
    return []


def _v_reversal(close: np.ndarray, atr: float, recent: int) -> list[Pattern]:
    """A fall of at least 3 ATR to the recent extreme, then a rebound retracing at least 60% of it."""
    n = len(close)
    out = []
    for sign, name, bias in ((1.0, "V-reversal bottom", "bullish"), (-1.0, "V-reversal top", "bearish")):
        y = sign * close
        lo = int(np.argmin(y[n - recent :])) + n - recent
        if lo in (n - recent, n - 1):
            continue
        pre = int(np.argmax(y[max(0, lo - recent) : lo + 1])) + max(0, lo - recent)
        drop = y[pre] - y[lo]
        if drop >= 3 * atr and y[-1] - y[lo] >= 0.6 * drop:
            out.append(Pattern(name, bias, (pre + 1, lo + 1, n)))
    return out


def detect(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, atr: float, recent: int = 20, span: int = 45
) -> list[Pattern]:
    """All patterns ending in the last ``recent`` bars; ``atr`` is the window's latest ATR (> 0)."""
    if atr <= 0 or len(close) < 10:
        return []
    found = (
        _doubles(high, low, atr, 3, recent)
        + _head_shoulders(high, low, atr, 3, recent)
        + _converging(high, low, atr, span)
        + _flags(close, high, low, atr)
        + _v_reversal(close, atr, recent)
    )
    seen: set[tuple[str, tuple[int, ...]]] = set()
    out = []
    for p in found:
        if (p.name, p.bars) not in seen:
            seen.add((p.name, p.bars))
            out.append(p)
    return out
