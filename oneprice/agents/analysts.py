"""The Indicator, Pattern and Trend analysts: compact structured reports from the deterministic tools.

Each analyst returns a ``Report``: a few lines of text that restate the tools' numbers (what the
Decision agent reads), and a rules vote (+1 bullish, -1 bearish, 0 neutral) that the rules-only
baseline sums. Nothing here calls an LLM; every number is computed from the bars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oneprice.agents import indicators, patterns, trend
from oneprice.agents.window import Window


@dataclass(frozen=True)
class Report:
    role: str  # indicator | pattern | trend
    text: str
    vote: int  # +1 bullish, -1 bearish, 0 neutral


@dataclass(frozen=True)
class Analysis:
    reports: tuple[Report, Report, Report]
    atr: float
    close: float
    macd_hist: float
    features: dict[str, float]

    def text(self) -> str:
        return "\n".join(f"[{r.role}] {r.text}" for r in self.reports)


def _f(x: float, nd: int = 1) -> str:
    return f"{x:.{nd}f}"


def _sig(x: float) -> str:
    """A price with 4 significant digits at least (BTC 26144, VIX 17.32)."""
    return f"{x:.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def indicator_report(ind: indicators.Indicators, close: float) -> Report:
    g = ind.latest
    parts, score = [], 0
    if "rsi" in g:
        d = ind.slope("rsi") or 0.0
        parts.append(f"RSI14 {_f(g['rsi'])} ({'rising' if d > 0 else 'falling'})")
        score += 1 if g["rsi"] > 55 else -1 if g["rsi"] < 45 else 0
    if "macd_hist" in g:
        parts.append(f"MACD hist {'+' if g['macd_hist'] >= 0 else ''}{g['macd_hist']:.3g}")
        score += 1 if g["macd_hist"] > 0 else -1 if g["macd_hist"] < 0 else 0
    if "stoch_k" in g and "stoch_d" in g:
        parts.append(f"Stoch K {_f(g['stoch_k'])} D {_f(g['stoch_d'])}")
        score += 1 if g["stoch_k"] > g["stoch_d"] else -1 if g["stoch_k"] < g["stoch_d"] else 0
    if "roc" in g:
        parts.append(f"ROC10 {g['roc']:+.2f}%")
        score += 1 if g["roc"] > 0 else -1 if g["roc"] < 0 else 0
    if "willr" in g:
        parts.append(f"WillR {_f(g['willr'])}")
    if {"bb_upper", "bb_lower"} <= g.keys():
        w = g["bb_upper"] - g["bb_lower"]
        pos = (close - g["bb_lower"]) / w if w else 0.5
        parts.append(
            f"close {_sig(close)} at {100 * pos:.0f}% of Bollinger "
            f"{_sig(g['bb_lower'])}-{_sig(g['bb_upper'])}"
        )
    if "atr" in g:
        parts.append(f"ATR14 {_sig(g['atr'])}")
    vote = 1 if score >= 2 else -1 if score <= -2 else 0
    return Report("indicator", "; ".join(parts) or "no valid indicator yet", vote)


def pattern_report(found: list[patterns.Pattern]) -> Report:
    if not found:
        return Report("pattern", "none", 0)
    score = sum(1 if p.bias == "bullish" else -1 if p.bias == "bearish" else 0 for p in found)
    return Report("pattern", "; ".join(p.text() for p in found), int(np.sign(score)))


def trend_report(tr: trend.Trend, close: float, atr: float, n: int) -> Report:
    x = n - 1
    sup, res = tr.support.at(x), tr.resistance.at(x)
    slope = 100 * tr.close_slope / close if close else 0.0
    d_sup = (close - sup) / atr if atr else 0.0
    d_res = (res - close) / atr if atr else 0.0
    text = (
        f"trend {slope:+.3f}%/bar; support {_sig(sup)} ({d_sup:.1f} ATR below, "
        f"{tr.support.touches} touches); resistance {_sig(res)} ({d_res:.1f} ATR above, "
        f"{tr.resistance.touches} touches)"
    )
    vote = 1 if slope > 0.02 else -1 if slope < -0.02 else 0
    return Report("trend", text, vote)


def analyse(w: Window, lookback: int = 45) -> Analysis:
    """All three reports for a window (the whole window feeds indicators; trendlines the last bars)."""
    ind = indicators.compute(w)
    atr = ind.latest.get("atr") or float(np.mean(w.high[-14:] - w.low[-14:]))
    close = float(w.close[-1])
    found = patterns.detect(w.high, w.low, w.close, atr)
    tr = trend.fit(w.high, w.low, w.close, lookback, tol=0.25 * atr)
    reports = (indicator_report(ind, close), pattern_report(found), trend_report(tr, close, atr, len(w)))
    return Analysis(reports, atr, close, ind.latest.get("macd_hist", 0.0), indicators.features(ind, w))


def rules_decision(a: Analysis) -> tuple[str, str]:
    """The rules-only baseline: the sum of the three votes; a tie goes to the MACD histogram's sign."""
    score = sum(r.vote for r in a.reports)
    if score == 0:
        score = int(np.sign(a.macd_hist))
    if score > 0:
        return "LONG", f"rules score {score:+d}"
    if score < 0:
        return "SHORT", f"rules score {score:+d}"
    return "ABSTAIN", "rules: no vote and a flat MACD"
