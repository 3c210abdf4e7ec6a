"""Scoring next-bar direction: Wilson intervals, overlap clusters, fitted baselines, returns after fees.

Windows overlap in time (and, on QuantAgent's benchmark, several assets share the same spans), so
fitted baselines are scored out of fold with whole clusters held out: a cluster is a connected set
of windows whose time spans overlap, across all instruments of one timeframe.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from oneprice.backtest.costs import CostModel


@dataclass(frozen=True)
class Score:
    n: int  # decided windows scored
    correct: int
    abstained: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else float("nan")

    def interval(self, z: float = 1.959964) -> tuple[float, float]:
        return wilson(self.correct, self.n, z)

    def as_dict(self) -> dict[str, float | int | list[float]]:
        lo, hi = self.interval()
        total = self.n + self.abstained
        return {
            "accuracy": round(self.accuracy, 4) if self.n else None,  # type: ignore[dict-item]
            "ci95": [round(lo, 4), round(hi, 4)],
            "n": self.n,
            "abstain_rate": round(self.abstained / total, 4) if total else 0.0,
        }


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of k successes in n trials ((0, 1) when n = 0)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact at the edges, where rounding could cut them
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def score(decisions: Sequence[str], up: Sequence[bool]) -> Score:
    """LONG is right when the next close is higher, SHORT when lower; ABSTAIN is not scored."""
    n = correct = abst = 0
    for d, u in zip(decisions, up, strict=True):
        if d not in ("LONG", "SHORT"):
            abst += 1
            continue
        n += 1
        correct += int((d == "LONG") == u)
    return Score(n, correct, abst)


def overlap_clusters(spans: Sequence[tuple[datetime, datetime]]) -> np.ndarray:
    """Cluster id per span: spans that overlap (directly or through others) share one id."""
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    ids = np.zeros(len(spans), dtype=int)
    cid, end = -1, None
    for i in order:
        s, e = spans[i]
        if end is None or s > end:
            cid += 1
            end = e
        else:
            end = max(end, e)
        ids[i] = cid
    return ids


def fitted_baselines(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int = 5, seed: int = 0
) -> dict[str, np.ndarray]:
    """Out-of-fold predictions (True = up) of majority, logistic regression and gradient boosting."""
    from sklearn.model_selection import GroupKFold
    from threadpoolctl import threadpool_limits

    out = {k: np.zeros(len(y), dtype=bool) for k in ("majority", "logistic", "gboost")}
    k = min(folds, len(np.unique(groups)))
    if k < 2:
        raise ValueError("fitted baselines need at least two overlap clusters")
    with threadpool_limits(1):  # small fits: OpenMP threads cost more than they give on a shared host
        for tr, te in GroupKFold(n_splits=k).split(x, y, groups):
            _fit_fold(x, y, tr, te, out, seed)
    return out


def _fit_fold(
    x: np.ndarray, y: np.ndarray, tr: np.ndarray, te: np.ndarray, out: dict[str, np.ndarray], seed: int
) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out["majority"][te] = y[tr].mean() >= 0.5
    if len(np.unique(y[tr])) < 2:  # one class in training: both models can only say that class
        out["logistic"][te] = out["gboost"][te] = bool(y[tr][0])
        return
    lr = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(C=0.1, max_iter=500))
    lr.fit(x[tr], y[tr])
    out["logistic"][te] = lr.predict(x[te]).astype(bool)
    gb = HistGradientBoostingClassifier(max_depth=3, max_iter=100, learning_rate=0.05, random_state=seed)
    gb.fit(x[tr], y[tr])
    out["gboost"][te] = gb.predict(x[te]).astype(bool)


def trade_return(decision: str, entry: float, exit_: float, costs: CostModel) -> float | None:
    """Return on notional of one trade from ``entry`` close to ``exit_`` close, after fees and slippage."""
    if decision not in ("LONG", "SHORT"):
        return None
    side = 1 if decision == "LONG" else -1
    buy = costs.fill_price(entry, side)
    sell = costs.fill_price(exit_, -side)
    units = 1.0 / buy
    fees = costs.fee_for(units, buy) + costs.fee_for(units, sell)
    return float(side * (sell - buy) * units - fees)


def returns_summary(rets: Sequence[float | None]) -> dict[str, float | int]:
    r = np.asarray([x for x in rets if x is not None], dtype=float)
    if not len(r):
        return {"trades": 0, "mean_bps": 0.0, "sum_pct": 0.0}
    return {
        "trades": len(r),
        "mean_bps": round(1e4 * float(r.mean()), 2),
        "sum_pct": round(100 * float(r.sum()), 2),
    }
