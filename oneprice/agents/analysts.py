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

    @property
    def view(self) -> str:
        return {1: "bullish", -1: "bearish"}.get(self.vote, "neutral")


@dataclass(frozen=True)
class Analysis:
    reports: tuple[Report, Report, Report]
    atr: float
    close: float
    macd_hist: float
    features: dict[str, float]

    def text(self) -> str:
        """The reports as the Decision agent reads them, each led by its analyst's view."""
        return "\n".join(
            f"[{r.role}] {r.view}: {r.text}" if r.text != "none" else f"[{r.role}] none" for r in self.reports
        )


def indicator_report(ind: indicators.Indicators, close: float) -> Report:
    """Compact on purpose: every character is prompt the Decision agent prefills for every window."""
    g = ind.latest
    parts, score = [], 0
    if "rsi" in g:
        d = ind.slope("rsi") or 0.0
        parts.append(f"RSI {g['rsi']:.0f} {'rising' if d > 0 else 'falling'}")
        score += 1 if g["rsi"] > 55 else -1 if g["rsi"] < 45 else 0
    if "macd_hist" in g:
        parts.append(f"MACD hist {g['macd_hist']:+.3g}")
        score += 1 if g["macd_hist"] > 0 else -1 if g["macd_hist"] < 0 else 0
    if "stoch_k" in g and "stoch_d" in g:
        parts.append(f"Stoch K {g['stoch_k']:.0f} D {g['stoch_d']:.0f}")
        score += 1 if g["stoch_k"] > g["stoch_d"] else -1 if g["stoch_k"] < g["stoch_d"] else 0
    if "roc" in g:
        parts.append(f"ROC {g['roc']:+.1f}%")
        score += 1 if g["roc"] > 0 else -1 if g["roc"] < 0 else 0
    if "willr" in g:
        parts.append(f"WillR {g['willr']:.0f}")
    if {"bb_upper", "bb_lower"} <= g.keys():
        w = g["bb_upper"] - g["bb_lower"]
        pos = (close - g["bb_lower"]) / w if w else 0.5
        parts.append(f"Bollinger {100 * pos:.0f}%")
    vote = 1 if score >= 2 else -1 if score <= -2 else 0
    return Report("indicator", ", ".join(parts) or "no valid indicator yet", vote)


def pattern_report(found: list[patterns.Pattern], keep: int = 3) -> Report:
    """The ``keep`` most recent patterns (by their last bar); the vote counts every one found."""
    if not found:
        return Report("pattern", "none", 0)
    score = sum(1 if p.bias == "bullish" else -1 if p.bias == "bearish" else 0 for p in found)
    recent = sorted(found, key=lambda p: max(p.bars), reverse=True)[:keep]
    return Report("pattern", "; ".join(p.text() for p in recent), int(np.sign(score)))


def trend_report(tr: trend.Trend, close: float, atr: float, n: int) -> Report:
    x = n - 1
    sup, res = tr.support.at(x), tr.resistance.at(x)
    slope = 100 * tr.close_slope / close if close else 0.0
    d_sup = (close - sup) / atr if atr else 0.0
    d_res = (res - close) / atr if atr else 0.0
    text = (
        f"slope {slope:+.2f}%/bar, support {d_sup:.1f} ATR below ({tr.support.touches} touches), "
        f"resistance {d_res:.1f} ATR above ({tr.resistance.touches} touches)"
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
