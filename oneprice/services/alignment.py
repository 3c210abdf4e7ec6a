"""Alignment use cases: train the relation model, align the database's markets, evaluate, review."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

from oneprice.alignment import candidates, store
from oneprice.alignment.classifier import AlignmentModel
from oneprice.alignment.embed import Embedder
from oneprice.alignment.evaluate import cross_validate, evaluate_holdout
from oneprice.alignment.labels import LabeledPair, market_keys, read_pairs, touches, with_groups
from oneprice.alignment.relations import ACTIONABLE, HEDGEABLE
from oneprice.alignment.scoring import Prepared, explain, score_pairs, train_model
from oneprice.core.errors import ConfigError
from oneprice.services.container import Services
from oneprice.services.results import OMIT_NONE

log = logging.getLogger(__name__)
METHOD = "embed-hnsw+facets-rf"


@dataclass(frozen=True)
class Trained:
    model_version: str
    pairs: int
    review_pairs: int
    hedge_threshold: float
    oof_precision: float | None
    embed_model: str
    path: str
    seconds: float


@dataclass(frozen=True)
class AlignRun:
    markets: int
    venues: dict[str, int]
    candidates: int
    scored: int
    proposed: int
    hedgeable: int
    by_relation: dict[str, int]
    inserted: int
    updated: int
    unchanged: int
    withdrawn: int
    kept_decided: int
    model_version: str
    trained: bool
    stages: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class ModelScores:
    hedgeable: PRF  # equivalent + inverse with the right outcome map
    relations: dict[str, PRF]  # relation -> scores


@dataclass(frozen=True)
class BaselineScores:
    hedgeable: PRF


@dataclass(frozen=True)
class ReliabilityBin:
    bin: str  # "0.3-0.4"
    n: int
    mean_p: float
    observed: float


@dataclass(frozen=True)
class Calibration:
    brier: float
    base_rate: float
    reliability: list[ReliabilityBin]


@dataclass(frozen=True)
class AlignEval:
    model: ModelScores
    calibration: Calibration | None = field(metadata=OMIT_NONE)
    baselines: dict[str, BaselineScores]  # fuzzy, cosine
    confusion: dict[str, dict[str, int]]  # truth -> predicted -> pairs
    n: int
    train_pairs: int | None = field(default=None, metadata=OMIT_NONE)  # with a labels file


@dataclass(frozen=True)
class MatchMarket:
    id: int
    venue: str
    external_id: str
    question: str
    rules: str | None
    close_time: str | None  # ISO


@dataclass(frozen=True)
class MatchRow:
    id: int
    relation: str
    status: str  # proposed | confirmed | rejected
    confidence: float
    method: str
    model_version: str
    explanation: dict[str, Any]  # deciding facets
    outcome_map: dict[str, Any]  # A's outcome -> the B outcome hedging it
    decided_at: str | None  # ISO
    decided_by: str | None
    market_a: MatchMarket
    market_b: MatchMarket


def _eval(d: dict[str, Any], train_pairs: int | None = None) -> AlignEval:
    def prf(x: dict[str, float]) -> PRF:
        return PRF(**x)

    cal = d.get("calibration")
    return AlignEval(
        model=ModelScores(
            prf(d["model"]["hedgeable"]), {k: prf(v) for k, v in d["model"]["relations"].items()}
        ),
        calibration=None
        if cal is None
        else Calibration(cal["brier"], cal["base_rate"], [ReliabilityBin(**r) for r in cal["reliability"]]),
        baselines={k: BaselineScores(prf(v["hedgeable"])) for k, v in d["baselines"].items()},
        confusion=d["confusion"],
        n=d["n"],
        train_pairs=train_pairs,
    )


def model_file(svc: Services) -> Path:
    return svc.settings.data_dir / "alignment" / "model.pkl"


def cache_dir(svc: Services) -> Path:
    s = svc.settings
    return s.embed_cache_dir or s.data_dir / "cache"


def embedder(svc: Services, model: str | None = None) -> Embedder:
    return Embedder(model or svc.settings.embed_model, cache_dir=cache_dir(svc))


def training_pairs(svc: Services, with_reviews: bool = True) -> tuple[list[LabeledPair], int]:
    """The shipped labels plus the human review decisions in the database (count of the latter)."""
    pairs, _ = read_pairs(svc.settings.align_labels)
    reviews: list[LabeledPair] = []
    if with_reviews:
        with svc.session() as s:
            reviews = store.review_labels(s)
    return with_groups(pairs + reviews), len(reviews)


def needs_training(svc: Services) -> bool:
    """Whether :func:`run` will train the model first (none saved, or one for another embedder)."""
    model = AlignmentModel.load(model_file(svc))
    return model is None or model.embed_model != svc.settings.embed_model


def train(svc: Services) -> Trained:
    """Train on the shipped labels and the review decisions; save the model in the data dir."""
    t0 = time.perf_counter()
    pairs, n_reviews = training_pairs(svc)
    emb = embedder(svc)
    try:
        model = train_model(pairs, emb)
    finally:
        emb.close()
    model.save(model_file(svc))
    return Trained(
        model_version=model.version,
        pairs=len(pairs),
        review_pairs=n_reviews,
        hedge_threshold=round(model.threshold, 3),
        oof_precision=model.oof_precision,
        embed_model=model.embed_model,
        path=str(model_file(svc)),
        seconds=round(time.perf_counter() - t0, 2),
    )


def current_model(svc: Services) -> tuple[AlignmentModel, bool]:
    """The saved model (trained first when missing or stale); True when it was just trained."""
    model = AlignmentModel.load(model_file(svc))
    if model is not None and model.embed_model == svc.settings.embed_model:
        return model, False
    train(svc)
    loaded = AlignmentModel.load(model_file(svc))
    if loaded is None:  # pragma: no cover - train() just wrote it
        raise ConfigError(f"could not load the alignment model from {model_file(svc)}")
    return loaded, True


def run(svc: Services, progress: Callable[[str], None] | None = None) -> AlignRun:
    """Align every pair of venues in the database and store proposals under the review workflow."""
    say = progress or (lambda _m: None)
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    if needs_training(svc):
        say("no alignment model yet: training one on the labeled pairs first (a few minutes)")
    model, trained = current_model(svc)
    stages["train"] = round(time.perf_counter() - t0, 2) if trained else 0.0
    s = svc.settings
    with svc.session() as session:
        rows = store.load_markets(session)
        decided = store.decided_pairs(session)
    say(f"{len(rows)} markets loaded")
    by_venue: dict[str, list[tuple[int, Any]]] = {}
    for mid, m in rows:
        by_venue.setdefault(m.venue, []).append((mid, m))
    emb = embedder(svc, model.embed_model)
    t = time.perf_counter()
    try:  # open until scoring is done: the rules reader reads candidates' markets lazily
        prep = Prepared([m for _, m in rows], emb)
        stages["parse_embed"] = round(time.perf_counter() - t, 2)
        say(f"embedded {emb.computed} new texts ({emb.hits} cached)")
        proposals: list[store.Proposal] = []
        n_cand = n_scored = 0
        t_cand = t_score = 0.0
        for va, vb in combinations(sorted(by_venue), 2):
            side_a, side_b = by_venue[va], by_venue[vb]
            ia = [prep.pos(m) for _, m in side_a]
            ib = [prep.pos(m) for _, m in side_b]
            t = time.perf_counter()
            cands = candidates.generate(
                prep.vectors[ia],
                prep.vectors[ib],
                [prep.contracts[i] for i in ia],
                [prep.contracts[j] for j in ib],
            )
            t_cand += time.perf_counter() - t
            n_cand += len(cands)
            todo = [
                (side_a[i], side_b[j]) for i, j, _ in cands if (side_a[i][0], side_b[j][0]) not in decided
            ]
            t = time.perf_counter()
            scored = score_pairs(model, prep, [(a[1], b[1]) for a, b in todo])
            n_scored += len(todo)
            for (a, b), sc in zip(todo, scored, strict=True):
                if sc.relation in ACTIONABLE and sc.confidence >= s.match_min_confidence:
                    proposals.append(
                        store.Proposal(a[0], b[0], sc.relation, sc.confidence, explain(prep, a[1], b[1], sc))
                    )
            t_score += time.perf_counter() - t
    finally:
        emb.close()
    stages["candidates"] = round(t_cand, 2)
    stages["verify"] = round(t_score, 2)
    t = time.perf_counter()
    with svc.session() as session:
        counts = store.save(session, proposals, METHOD, model.version, {mid for mid, _ in rows})
    stages["store"] = round(time.perf_counter() - t, 2)
    result = AlignRun(
        markets=len(rows),
        venues={v: len(ms) for v, ms in sorted(by_venue.items())},
        candidates=n_cand,
        scored=n_scored,
        proposed=len(proposals),
        hedgeable=sum(1 for p in proposals if p.relation in HEDGEABLE),
        by_relation=dict(sorted(counts.by_relation.items())),
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        withdrawn=counts.withdrawn,
        kept_decided=counts.kept_decided,
        model_version=model.version,
        trained=trained,
        stages=stages,
        seconds=round(time.perf_counter() - t0, 2),
    )
    log.info("align run: %s", {k: v for k, v in asdict(result).items() if k != "stages"})
    return result


def evaluate(svc: Services, labels: Path | None = None, cv: bool = False, folds: int = 5) -> AlignEval:
    """Score the model on ``labels`` (never trained on: pairs sharing a market or event with it are
    dropped from training), or by grouped cross-validation on the training labels when ``cv``."""
    if labels is None and not cv:
        raise ConfigError("give a labels file or ask for cross-validation")
    pairs, _ = training_pairs(svc)
    emb = embedder(svc)
    try:
        if labels is not None:
            test, _ = read_pairs(labels)
            if not test:
                raise ConfigError(f"no usable labeled pairs in {labels}")
            keys = market_keys(test)
            train_pairs = [p for p in pairs if not touches(p, keys)]
            return _eval(evaluate_holdout(train_pairs, test, emb), len(train_pairs))
        return _eval(cross_validate(pairs, emb, folds=folds))
    finally:
        emb.close()


def list_matches(
    svc: Services,
    status: str | None = None,
    min_confidence: float = 0.0,
    relations: Iterable[str] | None = None,
    limit: int = 500,
) -> list[MatchRow]:
    with svc.session() as s:
        rows = store.list_matches(s, status, min_confidence, relations, limit)
    return [
        MatchRow(**{**r, "market_a": MatchMarket(**r["market_a"]), "market_b": MatchMarket(**r["market_b"])})
        for r in rows
    ]


def decide_match(
    svc: Services, match_id: int, decision: Literal["confirmed", "rejected"], by: str = "user"
) -> None:
    with svc.session() as s:
        store.decide(s, match_id, decision, by)
