"""The calibrated relation classifier over pair features, its hedge threshold, and its artifact.

Equivalent and inverse pairs share one class ("same proposition"): the features are polarity
invariant, and the parsed polarity decides between them after scoring. Each pair is scored in both
orientations (A, B) and (B, A), and the two probability vectors are averaged, so the model is
symmetric by construction.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from oneprice.alignment.features import FEATURES
from oneprice.alignment.relations import EQUIVALENT, HEDGEABLE, INVERSE, OVERLAPPING, swap

log = logging.getLogger(__name__)
SAME = EQUIVALENT  # the class that stands for "same proposition, up to polarity"
BETA = 0.5
MIN_THRESHOLD = 0.5
ARTIFACT_FORMAT = 1


@dataclass(frozen=True)
class Scored:
    relation: str
    confidence: float
    probs: dict[str, float]
    hedge_prob: float


def _base() -> RandomForestClassifier:
    return RandomForestClassifier(
        n_estimators=300, min_samples_leaf=2, max_features=0.3, n_jobs=1, random_state=0
    )


def _splits(groups: np.ndarray, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    n = max(2, min(n, len(set(groups.tolist()))))
    return list(GroupKFold(n_splits=n).split(np.zeros(len(groups)), groups=groups))


class CalibratedForest:
    """A random forest with per-class isotonic calibration fitted on grouped out-of-fold scores."""

    def __init__(self, folds: int = 3) -> None:
        self.folds = folds
        self.classes_: np.ndarray = np.array([])
        self.oof_: np.ndarray = np.zeros((0, 0))  # calibrated out-of-fold probabilities
        self._forest: RandomForestClassifier | None = None
        self._iso: list[IsotonicRegression] = []

    def fit(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> CalibratedForest:
        # one thread: small data, and oversubscribed OpenMP threads are an order of magnitude slower
        with threadpool_limits(1):
            return self._fit(x, y, groups)

    def _fit(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> CalibratedForest:
        self.classes_ = np.array(sorted(set(y.tolist())), dtype=object)
        if len(self.classes_) < 2:
            raise ValueError("training needs at least two relations among the labels")
        raw = np.zeros((len(y), len(self.classes_)))
        for tr, te in _splits(groups, self.folds):
            forest = _base().fit(x[tr], y[tr])
            cols = [list(self.classes_).index(c) for c in forest.classes_]
            raw[np.ix_(te, np.asarray(cols, dtype=int))] = forest.predict_proba(x[te])
        self._iso = [
            IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
                raw[:, k], (y == c).astype(float)
            )
            for k, c in enumerate(self.classes_)
        ]
        self.oof_ = self._calibrate(raw)
        self._forest = _base().fit(x, y)
        return self

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        cal = np.column_stack([iso.predict(raw[:, k]) for k, iso in enumerate(self._iso)]) + 1e-6
        return cal / cal.sum(axis=1, keepdims=True)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        assert self._forest is not None, "fit first"
        raw = np.zeros((len(x), len(self.classes_)))
        cols = [list(self.classes_).index(c) for c in self._forest.classes_]
        with threadpool_limits(1):
            raw[:, cols] = self._forest.predict_proba(x)
        return self._calibrate(raw)


def _mirror(y: np.ndarray) -> np.ndarray:
    return np.array([swap(v) for v in y.tolist()], dtype=object)


@dataclass
class AlignmentModel:
    clf: Any
    threshold: float
    embed_model: str
    trained_on: int
    classes: list[str] = field(default_factory=list)
    version: str = ""
    oof_precision: float | None = None

    @classmethod
    def fit(
        cls,
        x_ab: np.ndarray,
        x_ba: np.ndarray,
        y: list[str],
        groups: list[str],
        embed_model: str,
        tune: bool = True,
    ) -> AlignmentModel:
        """Train on both orientations; tune the hedge threshold on out-of-fold scores when ``tune``."""
        ya = np.array([SAME if r in HEDGEABLE else r for r in y], dtype=object)
        g = np.array(groups, dtype=object)
        clf = CalibratedForest().fit(
            np.vstack([x_ab, x_ba]), np.concatenate([ya, _mirror(ya)]), np.concatenate([g, g])
        )
        threshold, oof_p = 0.5, None
        if tune:
            classes = [str(c) for c in clf.classes_]
            n = len(ya)
            oof = (clf.oof_[:n] + clf.oof_[n:][:, [classes.index(swap(c)) for c in classes]]) / 2
            threshold, oof_p = _tune_threshold(
                oof[:, classes.index(SAME)] if SAME in classes else np.zeros(n), ya
            )
        digest = hashlib.sha1(pickle.dumps((x_ab.round(6).tobytes(), ya.tolist(), embed_model))).hexdigest()[
            :12
        ]
        return cls(clf, threshold, embed_model, len(y), [str(c) for c in clf.classes_], f"rf-{digest}", oof_p)

    def proba(self, x_ab: np.ndarray, x_ba: np.ndarray) -> np.ndarray:
        """Orientation-averaged class probabilities, columns in ``self.classes`` order."""
        if len(x_ab) == 0:
            return np.zeros((0, len(self.classes)))
        p_ab = self.clf.predict_proba(x_ab)
        p_ba = self.clf.predict_proba(x_ba)
        idx = [self.classes.index(swap(c)) for c in self.classes]
        return (p_ab + p_ba[:, idx]) / 2

    def score(self, x_ab: np.ndarray, x_ba: np.ndarray, flips: list[bool]) -> list[Scored]:
        return [
            _decide(row, self.classes, self.threshold, f)
            for row, f in zip(self.proba(x_ab, x_ba), flips, strict=True)
        ]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump({"format": ARTIFACT_FORMAT, "features": FEATURES, "model": self}, fh)
        tmp.replace(path)

    @staticmethod
    def load(path: Path) -> AlignmentModel | None:
        """The saved model, or None when missing or built for other features (then retrain)."""
        if not path.exists():
            return None
        try:
            with path.open("rb") as fh:
                blob = pickle.load(fh)  # our own artifact in the user's data dir
        except Exception as exc:
            log.warning("cannot read alignment model %s (%s); it will be retrained", path, exc)
            return None
        if blob.get("format") != ARTIFACT_FORMAT or tuple(blob.get("features", ())) != FEATURES:
            log.info("alignment model %s was built for other features; it will be retrained", path)
            return None
        model: AlignmentModel = blob["model"]
        return model


def veto(s: Scored) -> Scored:
    """The best relation other than "same proposition" (a hard facet conflict ruled it out)."""
    others = {c: p for c, p in s.probs.items() if c not in HEDGEABLE}
    best = max(others, key=lambda c: others[c]) if others else OVERLAPPING
    return Scored(best, float(others.get(best, 0.0)), s.probs, s.hedge_prob)


def _decide(row: np.ndarray, classes: list[str], threshold: float, flip: bool) -> Scored:
    probs = {c: float(p) for c, p in zip(classes, row, strict=True)}
    p_same = probs.get(SAME, 0.0)
    best = max(probs, key=lambda c: probs[c])
    if best == SAME and p_same < threshold:
        others = {c: p for c, p in probs.items() if c != SAME}
        best = max(others, key=lambda c: others[c]) if others else OVERLAPPING
    relation = (INVERSE if flip else EQUIVALENT) if best == SAME else best
    out = dict(probs)
    if flip:
        out[INVERSE] = out.pop(SAME, 0.0)
        out[EQUIVALENT] = 0.0
    return Scored(relation, float(probs.get(best, 0.0)), out, p_same)


def _tune_threshold(p_same: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
    """The P(same) cut with the best out-of-fold F-beta (beta = 0.5: precision counts double).

    Cuts below ``MIN_THRESHOLD`` are never used, so a pair needs at least even odds to be hedgeable.
    """
    truth = y == SAME
    best: tuple[float, float, float] | None = None  # (f_beta, cut, precision)
    b2 = BETA * BETA
    for t in np.arange(MIN_THRESHOLD, 0.951, 0.025):
        pred = p_same >= t
        if pred.sum() == 0:
            break
        tp = float((pred & truth).sum())
        prec, rec = tp / pred.sum(), tp / max(1, truth.sum())
        fb = (1 + b2) * prec * rec / (b2 * prec + rec) if prec + rec else 0.0
        if best is None or fb > best[0]:
            best = (fb, float(t), prec)
    if best is None:
        return 0.9, None
    log.info("hedge threshold %.3f (out-of-fold precision %.3f)", best[1], best[2])
    return best[1], best[2]
