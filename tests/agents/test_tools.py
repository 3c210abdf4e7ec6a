"""Indicators (no zero-filled warm-up), trendlines (exact hull fit) and geometric patterns."""

from __future__ import annotations

import itertools

import numpy as np
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from oneprice.agents import indicators, patterns, trend
from oneprice.agents.window import Window


def test_indicators_report_only_valid_values(windows: list[Window]) -> None:
    w = windows[0]
    ind = indicators.compute(w)
    rsi = ind.series["rsi"]
    assert np.isnan(rsi[:14]).all() and not np.isnan(rsi[14:]).any()  # warm-up left NaN, never 0
    assert ind.valid["rsi"] == len(w) - 14
    assert ind.latest["rsi"] == talib.RSI(w.close, 14)[-1]
    assert ind.valid["macd_hist"] == len(w) - 33
    assert ind.latest["atr"] > 0


def test_short_window_has_no_macd_and_no_fake_zero(windows: list[Window]) -> None:
    w = windows[0].head(36)
    ind = indicators.compute(w)
    assert ind.valid["macd_hist"] == 36 - 33
    short = indicators.compute(windows[0].head(20))
    assert "macd_hist" not in short.latest and short.valid["macd_hist"] == 0
    assert all(np.isfinite(v) for v in short.latest.values())


def _best_support(x: np.ndarray, y: np.ndarray) -> float:
    """Brute force: the highest value at mean(x) of any line through two points lying below all points."""
    best = -np.inf
    for i, j in itertools.combinations(range(len(x)), 2):
        s = (y[j] - y[i]) / (x[j] - x[i])
        line = y[i] + s * (x - x[i])
        if (line <= y + 1e-9).all():
            best = max(best, y[i] + s * (x.mean() - x[i]))
    return best


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1.0, 100.0), min_size=3, max_size=25))
def test_support_is_the_optimal_line_below_every_low(lows: list[float]) -> None:
    y = np.asarray(lows)
    hi = y + 1.0
    tr = trend.fit(hi, y, (y + hi) / 2, lookback=len(y))
    x = np.arange(len(y), dtype=float)
    line = tr.support.at(x)
    assert (line <= y + 1e-7).all()
    assert np.isclose(tr.support.at(x.mean()), _best_support(x, y), atol=1e-7)
    res = tr.resistance.at(x)
    assert (res >= hi - 1e-7).all()
    a, b = tr.support.anchors
    assert np.isclose(tr.support.at(a), y[a]) and np.isclose(tr.support.at(b), y[b])


def _bars(path: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = np.asarray(path, dtype=float)
    return c + 0.2, c - 0.2, c


def _walk(*legs: tuple[float, int], start: float = 100.0) -> list[float]:
    out = [start]
    for target, n in legs:
        out += list(np.linspace(out[-1], target, n + 1)[1:])
    return out


def test_double_bottom_found_with_its_bars() -> None:
    path = _walk((110, 20), (100, 10), (106, 8), (100, 8), (104, 5))
    h, lo, c = _bars(path)
    found = patterns.detect(h, lo, c, atr=1.0)
    db = [p for p in found if p.name == "double bottom"]
    assert db and db[0].bias == "bullish"
    a, b = db[0].bars
    assert abs(c[a - 1] - 100) < 0.01 and abs(c[b - 1] - 100) < 0.01


def test_head_and_shoulders_and_inverse() -> None:
    hs = _walk((100, 10), (105, 6), (101, 6), (109, 6), (101, 6), (105, 6), (99, 6))
    found = {p.name for p in patterns.detect(*_bars(hs), atr=1.0)}
    assert "head and shoulders" in found
    inv = [200 - v for v in hs]
    found = {p.name: p for p in patterns.detect(*_bars(inv), atr=1.0)}
    assert "inverse head and shoulders" in found
    p = found["inverse head and shoulders"]
    assert p.bias == "bullish" and len(p.bars) == 3 and inv[p.bars[1] - 1] < inv[p.bars[0] - 1]


def test_ascending_triangle_and_falling_wedge() -> None:
    asc = _walk((100, 5), (110, 5), (102, 5), (110, 5), (104, 5), (110, 5), (106, 5), (110, 5), (108, 3))
    assert any(p.name == "ascending triangle" for p in patterns.detect(*_bars(asc), atr=1.0))
    wedge = _walk((120, 5), (110, 5), (116, 5), (106, 5), (110, 5), (103, 5), (105.5, 5), (101, 5), (102, 3))
    names = {p.name for p in patterns.detect(*_bars(wedge), atr=1.0)}
    assert "falling wedge" in names


def test_bull_flag_and_v_reversal() -> None:
    flag = _walk((100, 30), (110, 5), (109, 3), (109.5, 2), (108.8, 3))
    assert any(p.name == "bull flag" for p in patterns.detect(*_bars(flag), atr=1.0))
    v = _walk((100, 30), (90, 8), (98, 8))
    found = [p for p in patterns.detect(*_bars(v), atr=1.0) if p.name == "V-reversal bottom"]
    assert found and abs(v[found[0].bars[1] - 1] - 90) < 0.01


def test_flat_noise_has_no_double_bottom() -> None:
    rng = np.random.default_rng(0)
    c = 100 + rng.normal(0, 0.05, 80)
    assert not [p for p in patterns.detect(*_bars(list(c)), atr=1.0) if "double" in p.name]
