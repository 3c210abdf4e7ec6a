"""Metrics, grouped cross-validation, held-out evaluation and the two baselines (fuzzy, cosine)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from oneprice.alignment.contract import fold
from oneprice.alignment.embed import Embedder
from oneprice.alignment.features import FEATURES
from oneprice.alignment.labels import LabeledPair
from oneprice.alignment.reader import READER_FEATURES
from oneprice.alignment.relations import EQUIVALENT, HEDGEABLE, RELATIONS, UNRELATED, outcome_map
from oneprice.alignment.scoring import Prepared, featurize, fit_rows, score_rows
from oneprice.core.errors import InputError

log = logging.getLogger(__name__)


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def hedgeable_prf(truth: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """A hit needs both sides hedgeable with the same outcome map (an inverted map is a miss)."""
    tp = fp = fn = 0
    for t, p in zip(truth, pred, strict=True):
        ok = t in HEDGEABLE and p in HEDGEABLE and outcome_map(t) == outcome_map(p)
        tp += ok
        fp += p in HEDGEABLE and not ok
        fn += t in HEDGEABLE and not ok
    return _prf(tp, fp, fn)


def metrics(truth: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    rel: dict[str, dict[str, float]] = {}
    for r in RELATIONS:
        tp = sum(1 for t, p in zip(truth, pred, strict=True) if t == r and p == r)
        fp = sum(1 for t, p in zip(truth, pred, strict=True) if t != r and p == r)
        fn = sum(1 for t, p in zip(truth, pred, strict=True) if t == r and p != r)
        rel[r] = _prf(tp, fp, fn)
    confusion = {t: {p: 0 for p in RELATIONS} for t in RELATIONS}
    for t, p in zip(truth, pred, strict=True):
        confusion[t][p] += 1
    return {
        "hedgeable": hedgeable_prf(truth, pred),
        "relations": rel,
        "confusion": confusion,
        "n": len(truth),
    }


def fuzzy_scores(pairs: Sequence[LabeledPair]) -> np.ndarray:
    return np.array([fuzz.token_set_ratio(fold(p.a.question), fold(p.b.question)) / 100 for p in pairs])


def cosine_scores(pairs: Sequence[LabeledPair], embedder: Embedder) -> np.ndarray:
    prep = Prepared([m for p in pairs for m in (p.a, p.b)], embedder, reader=False)
    return np.array([float(prep.vectors[prep.pos(p.a)] @ prep.vectors[prep.pos(p.b)]) for p in pairs])


def tune_cut(scores: np.ndarray, truth: Sequence[str]) -> float:
    """The score threshold with the best hedgeable F1 on the training labels."""
    best_t, best_f = 1.0, -1.0
    for t in np.unique(np.round(scores, 4)):
        f = hedgeable_prf(truth, [EQUIVALENT if s >= t else UNRELATED for s in scores])["f1"]
        if f > best_f:
            best_t, best_f = float(t), f
    return best_t


def _baseline_preds(train_s: np.ndarray, train_y: list[str], test_s: np.ndarray) -> list[str]:
    cut = tune_cut(train_s, train_y)
    return [EQUIVALENT if s >= cut else UNRELATED for s in test_s]


class Featured:
    """Every labeled pair's feature rows, computed once (a pair's features depend only on its two
    markets), and the baselines' scores; folds train and score on slices of them."""

    def __init__(self, pairs: Sequence[LabeledPair], embedder: Embedder) -> None:
        self.pairs = list(pairs)
        self.embed_model = embedder.model_id
        self.prep = Prepared([m for p in pairs for m in (p.a, p.b)], embedder)
        self.x_ab, self.x_ba, self.flips = featurize(self.prep, [(p.a, p.b) for p in pairs])
        self.fuzzy = fuzzy_scores(pairs)
        self.cosine = cosine_scores(pairs, embedder)


_READER_COLS = [FEATURES.index(f) for f in READER_FEATURES]


def _rules_only(x: np.ndarray) -> np.ndarray:
    """The rows as the model without the rules reader saw them (its columns 0 where it read, -1 where a
    hard facet left the pair unread)."""
    out = x.copy()
    cols = out[:, _READER_COLS]
    out[:, _READER_COLS] = np.where(cols == -1.0, -1.0, 0.0)
    return out


def _fit_score(f: Featured, tr: list[int], te: list[int], reader: bool = True) -> list[Any]:
    view = _same if reader else _rules_only
    model = fit_rows(view(f.x_ab[tr]), view(f.x_ba[tr]), [f.pairs[i] for i in tr], f.embed_model)
    test = [(f.pairs[i].a, f.pairs[i].b) for i in te]
    f.prep.reader = reader  # the one-partner step featurizes twins the way the model was trained
    try:
        return score_rows(model, f.prep, test, view(f.x_ab[te]), view(f.x_ba[te]), [f.flips[i] for i in te])
    finally:
        f.prep.reader = True


def _same(x: np.ndarray) -> np.ndarray:
    return x


def holdout(f: Featured, tr: list[int], te: list[int], rules_only: bool = True) -> dict[str, Any]:
    """Train on pairs ``tr`` of ``f`` (model and baseline thresholds), predict pairs ``te``; raw
    predictions, the model's P(same proposition) of each test pair (``p_same``) and, when
    ``rules_only``, the predictions of the same model trained without the rules reader."""
    scored = _fit_score(f, tr, te)
    ytr = [f.pairs[i].relation for i in tr]
    out: dict[str, list[Any]] = {
        "model": [s.relation for s in scored],
        "p_same": [s.hedge_prob for s in scored],
        "fuzzy": _baseline_preds(f.fuzzy[tr], ytr, f.fuzzy[te]),
        "cosine": _baseline_preds(f.cosine[tr], ytr, f.cosine[te]),
    }
    if rules_only:
        out["rules_only"] = [s.relation for s in _fit_score(f, tr, te, reader=False)]
    return out


def calibration(p_same: Sequence[float], truth: Sequence[str], bins: int = 10) -> dict[str, Any]:
    """Brier score of P(same proposition) against hedgeable truth, and a reliability table: per bin of
    predicted P(same), the pairs in it, their mean prediction and the share truly hedgeable."""
    p = np.asarray(p_same, dtype=float)
    hit = np.array([t in HEDGEABLE for t in truth], dtype=float)
    table = []
    for k in range(bins):
        lo, hi = k / bins, (k + 1) / bins
        inside = (p >= lo) & ((p < hi) if k < bins - 1 else (p <= hi))
        if inside.any():
            table.append(
                {
                    "bin": f"{lo:.1f}-{hi:.1f}",
                    "n": int(inside.sum()),
                    "mean_p": round(float(p[inside].mean()), 4),
                    "observed": round(float(hit[inside].mean()), 4),
                }
            )
    brier = float(((p - hit) ** 2).mean()) if len(p) else 0.0
    return {"brier": round(brier, 4), "base_rate": round(float(hit.mean()), 4) if len(p) else 0.0,
            "reliability": table}  # fmt: skip


def report(truth: list[str], preds: dict[str, list[Any]]) -> dict[str, Any]:
    m = metrics(truth, preds["model"])
    return {
        "model": {"hedgeable": m["hedgeable"], "relations": m["relations"]},
        **({"calibration": calibration(preds["p_same"], truth)} if "p_same" in preds else {}),
        "baselines": {
            k: {"hedgeable": hedgeable_prf(truth, preds[k])}
            for k in ("fuzzy", "cosine", "rules_only")
            if k in preds
        },
        "confusion": m["confusion"],
        "n": m["n"],
    }


MIN_TRAIN = 20


def evaluate_holdout(
    train: Sequence[LabeledPair], test: Sequence[LabeledPair], embedder: Embedder
) -> dict[str, Any]:
    """Train on ``train``, score ``test``. ``InputError`` when too little is left to train on (a test file
    sharing markets or events with nearly every labeled pair), instead of a meaningless score."""
    hedge = sum(1 for p in train if p.relation in HEDGEABLE)
    if len(train) < MIN_TRAIN or hedge == 0 or hedge == len(train):
        raise InputError(
            f"only {len(train)} training pairs ({hedge} hedgeable) share no market or event with the "
            f"{len(test)} test pairs; need {MIN_TRAIN} or more of both kinds: test on other markets"
        )
    f = Featured([*train, *test], embedder)
    n = len(train)
    return report([p.relation for p in test], holdout(f, list(range(n)), list(range(n, len(f.pairs)))))


def cross_validate(pairs: Sequence[LabeledPair], embedder: Embedder, folds: int = 5) -> dict[str, Any]:
    """Grouped k-fold: every pair of a group (event and its linked markets) sits in one fold."""
    groups = sorted({p.group or p.key for p in pairs})
    rng = np.random.default_rng(20260101)
    order = {g: i for i, g in enumerate(rng.permutation(groups).tolist())}
    # balance folds by size: assign the largest groups first to the lightest fold
    sizes: dict[str, int] = {}
    for p in pairs:
        sizes[p.group or p.key] = sizes.get(p.group or p.key, 0) + 1
    fold_of: dict[str, int] = {}
    load = [0] * folds
    for g in sorted(groups, key=lambda g: (-sizes[g], order[g])):
        k = int(np.argmin(load))
        fold_of[g] = k
        load[k] += sizes[g]
    f = Featured(pairs, embedder)
    log.info("features of %d pairs computed once for %d folds", len(pairs), folds)
    preds: dict[str, list[Any]] = {}
    for k in range(folds):
        te = [i for i, p in enumerate(pairs) if fold_of[p.group or p.key] == k]
        tr = [i for i, p in enumerate(pairs) if fold_of[p.group or p.key] != k]
        out = holdout(f, tr, te)
        for name, vals in out.items():
            col = preds.setdefault(name, [None] * len(pairs))
            for i, v in zip(te, vals, strict=True):
                col[i] = v
        log.info("fold %d/%d done", k + 1, folds)
    return report([p.relation for p in pairs], preds)
