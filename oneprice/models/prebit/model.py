"""Indicators-only, text-only and fused classifiers, and their walk-forward evaluation.

PreBit used an SVM on indicators, a CNN over the day's tweet embeddings and a fusion of both. Here every
variant is a class-balanced logistic regression on standardised features (cheap enough to refit 28
times on a shared CPU): ``ta_only`` on TA-Lib indicators and correlated assets, ``text_only`` on the
day's sentiment aggregates and a latent-semantic embedding of its tweets (TF-IDF + truncated SVD, fitted
on the training window only), ``fusion`` on both together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

FEATURE_SETS = ("ta_only", "text_only", "fusion")
TASKS = {"up": "y_up", "down": "y_down", "up_vol": "y_up_vol", "down_vol": "y_down_vol"}


def numeric_columns(ds: pd.DataFrame, kind: str) -> list[str]:
    if kind not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {kind!r}; choose one of {', '.join(FEATURE_SETS)}")
    ta = [c for c in ds.columns if c.startswith(("ta_", "asset_"))]
    tw = [c for c in ds.columns if c.startswith("tw_")]
    cols = {"ta_only": ta, "text_only": tw, "fusion": ta + tw}[kind]
    if not cols:
        raise ValueError(f"the dataset has no columns for {kind} (build it with tweets for text features)")
    return cols


class DayText:
    """A latent-semantic embedding of each day's tweets: hashed term counts (stateless, so nothing is
    learned from other days), TF-IDF weights and a truncated SVD fitted on the training days only."""

    def __init__(self, dim: int = 16, seed: int = 0) -> None:
        self.dim, self.seed = dim, seed
        self._tfidf: Any = None
        self._svd: Any = None
        self._cols = np.zeros(0, dtype=np.int64)

    @staticmethod
    def counts(docs: list[str]) -> Any:
        from sklearn.feature_extraction.text import HashingVectorizer

        return HashingVectorizer(n_features=2**18, alternate_sign=False, norm=None).transform(docs)

    def fit_transform(self, docs: list[str] | Any) -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfTransformer

        x = self.counts(docs) if isinstance(docs, list) else docs
        df = np.bincount(x.tocsr().indices, minlength=x.shape[1])
        self._cols = np.flatnonzero((df >= 3) & (df <= 0.9 * x.shape[0]))  # min_df 3, max_df 0.9
        x = x[:, self._cols]
        self._tfidf = TfidfTransformer(sublinear_tf=True).fit(x)
        self._svd = TruncatedSVD(self.dim, random_state=self.seed)
        return np.asarray(self._svd.fit_transform(self._tfidf.transform(x)))

    def transform(self, docs: list[str] | Any) -> np.ndarray:
        if self._svd is None:
            raise ValueError("the text embedding is not fitted")
        x = self.counts(docs) if isinstance(docs, list) else docs
        return np.asarray(self._svd.transform(self._tfidf.transform(x[:, self._cols])))


def _docs(ds: pd.DataFrame) -> list[str]:
    return ds["doc"].fillna("").astype(str).tolist()


def _head(c: float) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=c, class_weight="balanced", max_iter=5000),
    )


def _uses_text(ds: pd.DataFrame, kind: str) -> bool:
    return kind != "ta_only" and "doc" in ds.columns


@dataclass
class PrebitModel:
    """One binary classifier: P(extreme move tomorrow) from one feature set."""

    kind: str = "fusion"
    c: float = 0.05
    svd_dim: int = 16
    seed: int = 0
    columns: list[str] = field(default_factory=list)
    _pipe: Any = None
    _text: DayText | None = None

    def fit(self, ds: pd.DataFrame, y: np.ndarray, text: np.ndarray | None = None) -> PrebitModel:
        """Fit on ``ds``; ``text`` passes a day-text embedding already fitted on the same rows."""
        y = np.asarray(y, dtype=int)
        if len(np.unique(y)) < 2:
            raise ValueError("the training labels hold a single class")
        self.columns = numeric_columns(ds, self.kind)
        x = ds[self.columns].to_numpy(np.float64)
        if _uses_text(ds, self.kind):
            if text is None:
                self._text = DayText(self.svd_dim, self.seed)
                text = self._text.fit_transform(_docs(ds))
            x = np.hstack([x, text])
        self._pipe = _head(self.c).fit(x, y)
        return self

    def predict_proba(self, ds: pd.DataFrame, text: np.ndarray | None = None) -> np.ndarray:
        if self._pipe is None:
            raise ValueError("the model is not fitted")
        x = ds[self.columns].to_numpy(np.float64)
        if _uses_text(ds, self.kind):
            if text is None:
                if self._text is None:
                    raise ValueError("no fitted text embedding for this model")
                text = self._text.transform(_docs(ds))
            x = np.hstack([x, text])
        return np.asarray(self._pipe.predict_proba(x)[:, 1])


def walk_forward(
    ds: pd.DataFrame,
    tasks: tuple[str, ...] = ("up", "down"),
    kinds: tuple[str, ...] = FEATURE_SETS,
    train_days: int = 365,
    step: int = 30,
    placebo: bool = True,
    seed: int = 0,
    c: float = 0.05,
) -> pd.DataFrame:
    """Out-of-sample probabilities: refit on the last ``train_days`` labeled days every ``step`` days.

    Rows: one per (day, task, model) with columns fold, y, p; ``model`` is a feature set or ``placebo``
    (the fused model trained on labels shuffled inside each training window). A row of day t in a fold
    starting at day s is predicted by models trained on days s - train_days .. s - 1, whose labels look
    one day ahead at most, up to day s's own bar, known at the close where day t's prediction is made.
    """
    for task in tasks:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if train_days < 30 or step < 1:
        raise ValueError("train_days must be >= 30 and step >= 1")
    for kind in kinds:
        numeric_columns(ds, kind)
    data = ds[ds[[TASKS[t] for t in tasks]].notna().all(axis=1)]
    if len(data) <= train_days:
        raise ValueError(f"{len(data)} labeled days: need more than train_days={train_days}")
    rng = np.random.default_rng(seed)
    runs = [*kinds, "placebo"] if placebo else list(kinds)
    out = []
    text_runs = any(_uses_text(ds, k) for k in kinds) or (placebo and _uses_text(ds, "fusion"))
    counts = DayText.counts(_docs(data)).tocsr() if text_runs else None
    for fold, start in enumerate(range(train_days, len(data), step)):
        tr, te = data.iloc[start - train_days : start], data.iloc[start : start + step]
        text_tr = text_te = None
        if counts is not None:
            emb = DayText(16, seed)
            text_tr = emb.fit_transform(counts[start - train_days : start])
            text_te = emb.transform(counts[start : start + step])
        for task in tasks:
            y_tr, y_te = tr[TASKS[task]].to_numpy(int), te[TASKS[task]].to_numpy(int)
            for run in runs:
                kind = "fusion" if run == "placebo" else run
                y_fit = rng.permutation(y_tr) if run == "placebo" else y_tr
                if len(np.unique(y_fit)) < 2:
                    continue
                m = PrebitModel(kind, c=c, seed=seed).fit(tr, y_fit, text_tr)
                p = m.predict_proba(te, text_te)
                out.append(
                    pd.DataFrame(
                        {"fold": fold, "task": task, "model": run, "y": y_te, "p": p}, index=te.index
                    )
                )
    if not out:
        raise ValueError("no fold had both classes in its training window")
    return pd.concat(out)


def auc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, p))


def auc_table(pred: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """AUC over all out-of-sample days, per task and model."""
    return {
        task: {model: auc(g["y"].to_numpy(), g["p"].to_numpy()) for model, g in by_task.groupby("model")}
        for task, by_task in pred.groupby("task")
    }


def fold_auc_table(pred: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """The mean of the AUCs inside each fold (folds whose test days hold both classes): unlike the pooled
    AUC, a model's level shifting from fold to fold with the regime cannot move it."""
    out: dict[str, dict[str, float | None]] = {}
    for (task, model), g in pred.groupby(["task", "model"]):
        per = [auc(f["y"].to_numpy(), f["p"].to_numpy()) for _, f in g.groupby("fold")]
        vals = [v for v in per if v is not None]
        out.setdefault(task, {})[model] = float(np.mean(vals)) if vals else None
    return out
