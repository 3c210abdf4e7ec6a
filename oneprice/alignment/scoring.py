"""From markets to feature matrices; train a model on labeled pairs; score market pairs."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from oneprice.alignment.classifier import AlignmentModel, Scored, veto
from oneprice.alignment.contract import Contract, Terms, canon, parse
from oneprice.alignment.embed import Embedder
from oneprice.alignment.features import (
    FACET_FEATURES,
    FEATURES,
    HARD_CONFLICTS,
    facet_report,
    hard_facets,
    pair_features,
    polarity_flip,
)
from oneprice.alignment.labels import LabeledPair
from oneprice.alignment.reader import READER_FEATURES, pair_reading, read
from oneprice.alignment.relations import EQUIVALENT, HEDGEABLE
from oneprice.core.types import Market

Pair = tuple[Market, Market]
# Corpus-independent bag of words for rules texts (no fitted vocabulary, so train and run agree).
_HASHER = HashingVectorizer(
    n_features=2**18,
    ngram_range=(1, 2),
    stop_words="english",
    alternate_sign=False,
    norm="l2",
    lowercase=True,
)


def contract_of(m: Market) -> Contract:
    terms = Terms(m.strike_type, m.floor_strike, m.cap_strike, m.expected_expiration, m.group_item,
                  m.resolution_source)  # fmt: skip
    return parse(m.question, m.rules, m.close_time, m.venue, m.market_id, terms)


def embed_text(m: Market) -> str:
    return m.question.strip()


# P(same) is trained and calibrated on every labeled pair, look-alikes as candidate generation yields
# them, hard conflicts included as features (True: only on the pairs no hard facet rules out, as before;
# they were 96% same, which made P(same) no probability).
OPEN_ONLY = False
# The rules reader's columns are computed (False: left at zero, for the rules-only ablation).
USE_READER = True


class Prepared:
    """Contracts, question vectors and rules readings for a set of markets, keyed by (venue, market id)."""

    def __init__(self, markets: Sequence[Market], embedder: Embedder, reader: bool | None = None) -> None:
        uniq: dict[tuple[str, str], Market] = {}
        for m in markets:
            uniq.setdefault((m.venue, m.market_id), m)
        self.keys = list(uniq)
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.contracts = [contract_of(uniq[k]) for k in self.keys]
        self.vectors = embedder.encode([embed_text(uniq[k]) for k in self.keys])
        self.rules = _HASHER.transform([c.rules[:3000] for c in self.contracts]).tocsr()
        self.has_rules = np.array([bool(c.rules.strip()) for c in self.contracts])
        self.reader = USE_READER if reader is None else reader
        # read lazily, for the markets of the pairs scored (a listing's candidates touch few of them)
        self._texts = [(uniq[k].question, uniq[k].rules) for k in self.keys]
        self._embedder = embedder
        self.readings: dict[int, np.ndarray] = {}

    def pos(self, m: Market) -> int:
        return self.index[(m.venue, m.market_id)]

    def read(self, positions: Sequence[int]) -> None:
        """Read the rules of the markets at ``positions`` not read yet (embeddings cached on disk)."""
        todo = sorted({i for i in positions if i not in self.readings})
        if self.reader and todo:
            for i, r in zip(todo, read([self._texts[i] for i in todo], self._embedder), strict=True):
                self.readings[i] = r


def featurize(prep: Prepared, pairs: Sequence[Pair]) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """Feature rows for (A, B) and (B, A), and whether B negates A, for each pair.

    The rules reader reads only the pairs no hard facet rules out (the only ones that can be called
    hedgeable); the others carry -1 in its columns, in training and in use alike."""
    ii = np.array([prep.pos(a) for a, _ in pairs], dtype=int)
    jj = np.array([prep.pos(b) for _, b in pairs], dtype=int)
    cos = np.einsum("ij,ij->i", prep.vectors[ii], prep.vectors[jj]) if len(pairs) else np.zeros(0)
    rules = np.asarray(prep.rules[ii].multiply(prep.rules[jj]).sum(axis=1)).ravel() if len(pairs) else cos
    rules = np.where(prep.has_rules[ii] & prep.has_rules[jj], rules, -1.0)
    ab, ba, flips = [], [], []
    for k, (i, j) in enumerate(zip(ii.tolist(), jj.tolist(), strict=True)):
        ca, cb = prep.contracts[i], prep.contracts[j]
        ab.append(list(pair_features(ca, cb, float(cos[k]), float(rules[k])).values()))
        ba.append(list(pair_features(cb, ca, float(cos[k]), float(rules[k])).values()))
        flips.append(polarity_flip(ca, cb))
    hard = [FACET_FEATURES.index(f) for f in HARD_CONFLICTS]
    open_ = [k for k, row in enumerate(ab) if not any(row[h] > 0 for h in hard)]
    prep.read([x for k in open_ for x in (int(ii[k]), int(jj[k]))])
    unread = [-1.0] * len(READER_FEATURES)
    is_open = set(open_)
    for k, (i, j) in enumerate(zip(ii.tolist(), jj.tolist(), strict=True)):
        ab[k] += _reading(prep, i, j) if k in is_open else unread
        ba[k] += _reading(prep, j, i) if k in is_open else unread
    width = len(FEATURES)
    return (
        np.asarray(ab, dtype=float).reshape(-1, width),
        np.asarray(ba, dtype=float).reshape(-1, width),
        flips,
    )


def _reading(prep: Prepared, i: int, j: int) -> list[float]:
    if not prep.reader:
        return [0.0] * len(READER_FEATURES)
    return pair_reading(prep.readings[i], prep.readings[j])


def train_model(labeled: Sequence[LabeledPair], embedder: Embedder, tune: bool = True) -> AlignmentModel:
    prep = Prepared([m for p in labeled for m in (p.a, p.b)], embedder)
    x_ab, x_ba, _ = featurize(prep, [(p.a, p.b) for p in labeled])
    return fit_rows(x_ab, x_ba, labeled, embedder.model_id, tune=tune)


def fit_rows(
    x_ab: np.ndarray, x_ba: np.ndarray, labeled: Sequence[LabeledPair], embed_model: str, tune: bool = True
) -> AlignmentModel:
    """Train on feature rows already computed for ``labeled`` (a pair's features depend only on its two
    markets, so cross-validation computes them once for every fold)."""
    return AlignmentModel.fit(
        x_ab,
        x_ba,
        [p.relation for p in labeled],
        [p.group or p.key for p in labeled],
        embed_model,
        tune=tune,
        open_rows=~hard_conflict(x_ab) if OPEN_ONLY else None,
    )


def hard_conflict(x_ab: np.ndarray) -> np.ndarray:
    """Rows where a hard facet (period, bucket, office...) conflicts: never hedgeable."""
    hard = [FEATURES.index(f) for f in HARD_CONFLICTS]
    return np.asarray((x_ab[:, hard] > 0).any(axis=1), dtype=bool).reshape(len(x_ab))


def score_pairs(model: AlignmentModel, prep: Prepared, pairs: Sequence[Pair]) -> list[Scored]:
    """Scores; a hedgeable call is vetoed when a hard facet (period, bucket, office...) conflicts, and
    when it is not the clear best of its market's hedgeable partners on the other venue."""
    x_ab, x_ba, flips = featurize(prep, pairs)
    return score_rows(model, prep, pairs, x_ab, x_ba, flips)


def score_rows(
    model: AlignmentModel,
    prep: Prepared,
    pairs: Sequence[Pair],
    x_ab: np.ndarray,
    x_ba: np.ndarray,
    flips: list[bool],
) -> list[Scored]:
    """``score_pairs`` on feature rows already computed for ``pairs``."""
    scored = model.score(x_ab, x_ba, flips)
    vetoed = hard_conflict(x_ab).tolist()
    scored = [veto(s) if v and s.relation in HEDGEABLE else s for s, v in zip(scored, vetoed, strict=True)]
    return one_partner(pairs, scored, lambda x, y: _twins(model, prep, x, y))


def _twins(model: AlignmentModel, prep: Prepared, x: Market, y: Market) -> bool:
    """Two markets of one venue listing one proposition twice (a yes/no market and an outcome of
    another event): they sit in different known events (siblings of one event are exclusive outcomes)
    under different titles, the model calls them equivalent and no hard facet tells them apart."""
    if not x.event_id or not y.event_id or x.event_id == y.event_id or canon(x.question) == canon(y.question):
        return False  # one title twice: the venue tells them apart elsewhere (H5N1 or mpox, in the rules)
    x_ab, x_ba, flips = featurize(prep, [(x, y)])
    return not (x_ab[0, _TWIN_HARD] > 0).any() and model.score(x_ab, x_ba, flips)[0].relation == EQUIVALENT


# Their close times say nothing about twins: a Kalshi close is a far "latest expiration", set per series.
_TWIN_HARD = [FEATURES.index(f) for f in HARD_CONFLICTS if f != "relist_conflict"]


# How far a kept pair must lead its strongest still-free competitor, in log-odds: near certainty
# 0.98 against 0.94 is a clear lead, 0.90 against 0.86 is not (a fixed gap in probability is not).
CLEAR_MARGIN = 0.5


def _logit(p: float) -> float:
    q = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(q / (1 - q))


Side = tuple[str, str, str]  # (venue, market id, the other venue)


def one_partner(
    pairs: Sequence[Pair], scored: list[Scored], twins: Callable[[Market, Market], bool] | None = None
) -> list[Scored]:
    """At most one hedgeable partner per market and other venue (a greedy one-to-one matching).

    Two markets of one venue are two propositions, so a market can be the same contract as one of
    them at most. Hedgeable pairs are taken best P(same) first; a pair whose market is already taken
    loses its call. A pair that leads a competitor still free at its turn by less than
    ``CLEAR_MARGIN`` is ambiguous (the facets could not tell which is meant), and neither is kept.
    The exception is a venue listing one proposition twice: where ``twins(y1, y2)`` says the two
    partners are one contract, each may hedge the market and neither competes with the other.
    """
    order = sorted(
        (k for k, s in enumerate(scored) if s.relation in HEDGEABLE), key=lambda k: -scored[k].hedge_prob
    )
    sides = {k: ((pairs[k][0].venue, pairs[k][0].market_id, pairs[k][1].venue),
                 (pairs[k][1].venue, pairs[k][1].market_id, pairs[k][0].venue)) for k in order}  # fmt: skip
    by_side: dict[Side, list[int]] = {}
    for k in order:
        for side in sides[k]:
            by_side.setdefault(side, []).append(k)
    memo: dict[tuple[int, int], bool] = {}

    def partner(k: int, side: Side) -> Market:
        return pairs[k][1] if side == sides[k][0] else pairs[k][0]

    def same(k: int, r: int, side: Side) -> bool:
        """Pairs k and r share ``side``'s market, and their partners are one contract."""
        if twins is None:
            return False
        if (k, r) not in memo:
            memo[(k, r)] = memo[(r, k)] = twins(partner(k, side), partner(r, side))
        return memo[(k, r)]

    taken: dict[Side, list[int]] = {}
    keep: set[int] = set()
    notes: dict[int, str] = {}

    def blocked(k: int) -> bool:
        return any(not same(k, j, side) for side in sides[k] for j in taken.get(side, []))

    for k in order:
        if blocked(k):
            notes[k] = "a market of this pair has a better-scoring partner on the other venue"
            continue
        rivals = [
            r
            for side in sides[k]
            for r in by_side[side]
            if r != k and not same(k, r, side) and not blocked(r)
        ]
        best_rival = max((scored[r].hedge_prob for r in rivals), default=0.0)
        lead = _logit(scored[k].hedge_prob) - _logit(best_rival)
        for side in sides[k]:
            taken.setdefault(side, []).append(k)
        if lead >= CLEAR_MARGIN:
            keep.add(k)
        else:
            notes[k] = f"ambiguous: another partner scores {best_rival:.2f} (within {CLEAR_MARGIN} log-odds)"
    return [veto(s, notes[k]) if k in notes else s for k, s in enumerate(scored)]


def explain(prep: Prepared, a: Market, b: Market, scored: Scored) -> dict[str, object]:
    """The match explanation: deciding facets, similarity and class probabilities."""
    i, j = prep.pos(a), prep.pos(b)
    facets = facet_report(prep.contracts[i], prep.contracts[j])
    deciding = sorted(k for k, v in facets.items() if v["status"] in ("conflict", "partial", "flipped"))
    agreeing = sorted(k for k, v in facets.items() if v["status"] == "agree")
    return {
        "relation": scored.relation,
        **({"refused_hedge": scored.note} if scored.note else {}),
        "conflicting_hard_facets": hard_facets(prep.contracts[i], prep.contracts[j]),
        "cosine": round(float(prep.vectors[i] @ prep.vectors[j]), 4),
        "p_same_proposition": round(scored.hedge_prob, 4),
        "probs": {k: round(v, 4) for k, v in scored.probs.items()},
        "agreeing_facets": agreeing,
        "differing_facets": deciding,
        "facets": facets,
    }
