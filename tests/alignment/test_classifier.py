from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from oneprice.alignment.classifier import (
    MIN_CUT,
    OTHER,
    SAME,
    TARGET_PRECISION,
    CalibratedForest,
    Scored,
    _tune_threshold,
    veto,
)
from oneprice.alignment.relations import EQUIVALENT, HEDGEABLE, UNRELATED
from oneprice.alignment.scoring import _twins, one_partner
from oneprice.core.types import Market


def test_cut_is_the_lowest_score_that_keeps_precision() -> None:
    scores = np.array([0.995, 0.99, 0.98, 0.97, 0.95, 0.94, 0.93, 0.92])
    truth = np.array([SAME] * 19 + [OTHER] + [SAME] * 30 + [OTHER] * 3, dtype=object)
    s = np.repeat(scores, [10, 10, 10, 10, 10, 1, 1, 1])[: len(truth)]
    cut, prec = _tune_threshold(s, truth)
    assert cut == 0.95 and prec is not None and prec >= TARGET_PRECISION
    assert (truth[s >= 0.94] == SAME).mean() < TARGET_PRECISION  # one step lower breaks the target
    # a curve that stays precise all the way down stops at the floor
    cut, _ = _tune_threshold(np.linspace(0.01, 0.99, 99), np.array([SAME] * 99, dtype=object))
    assert MIN_CUT <= cut < MIN_CUT + 0.011


@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=60))
def test_cut_meets_the_target_whenever_some_cut_does(rows: list[tuple[float, bool]]) -> None:
    s = np.array([r[0] for r in rows])
    truth = np.array([SAME if r[1] else OTHER for r in rows], dtype=object)
    cut, prec = _tune_threshold(s, truth)
    assert cut >= MIN_CUT  # never below the floor, however precise the labeled curve looks
    if not (s >= MIN_CUT).any():
        assert prec is None
        return
    assert prec is not None and abs((truth[s >= cut] == SAME).mean() - prec) < 1e-9
    reachable = any((truth[s >= c] == SAME).mean() >= TARGET_PRECISION for c in s if c >= MIN_CUT)
    assert (prec >= TARGET_PRECISION) == reachable


def test_sigmoid_calibration_is_monotone_in_the_raw_score() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = np.where(x[:, 0] + 0.5 * rng.normal(size=300) > 0, SAME, OTHER).astype(object)
    groups = np.array([f"g{i // 3}" for i in range(300)], dtype=object)
    clf = CalibratedForest(repeats=2, method="sigmoid").fit(x, y, groups)
    assert clf.oof_.shape == (600, 2)  # one block per out-of-fold pass
    col = list(clf.classes_).index(SAME)
    order = np.argsort(clf.oof_raw_[:, col])
    assert np.all(np.diff(clf.oof_[order, col]) >= -1e-9)


def _m(venue: str, mid: str) -> Market:
    return Market(venue=venue, market_id=mid, question=f"{venue} {mid}?")


def _s(p: float) -> Scored:
    return Scored(EQUIVALENT, p, {EQUIVALENT: p, UNRELATED: 1 - p}, p)


def test_a_market_keeps_at_most_one_hedgeable_partner_per_venue() -> None:
    k1, k2, p1, p2, p3 = (
        _m("kalshi", "K1"),
        _m("kalshi", "K2"),
        _m("poly", "P1"),
        _m("poly", "P2"),
        _m("poly", "P3"),
    )
    pairs = [(k1, p1), (k1, p2), (k2, p2), (k2, p3)]
    out = one_partner(pairs, [_s(0.97), _s(0.90), _s(0.95), _s(0.70)])
    # K1-P1 wins; K1-P2 loses (K1 taken); K2-P2 is next; K2-P3 loses (K2 taken)
    assert [o.relation for o in out] == [EQUIVALENT, UNRELATED, EQUIVALENT, UNRELATED]


def test_a_proposition_listed_twice_on_one_venue_may_hedge_the_same_market() -> None:
    """Kalshi lists "Will Ciolacu be 1st in the first round?" and, as an outcome of "Who will win the
    first round?", the same proposition again: both hedge the one Polymarket market."""
    yes_no, outcome, poly, other = _m("kalshi", "YN"), _m("kalshi", "OUT"), _m("poly", "P"), _m("kalshi", "X")
    pairs = [(yes_no, poly), (outcome, poly), (other, poly)]
    twins = {frozenset({"YN", "OUT"})}
    out = one_partner(
        pairs, [_s(0.99), _s(0.99), _s(0.98)], lambda x, y: frozenset({x.market_id, y.market_id}) in twins
    )
    # the twins share the market; a third Kalshi market close behind is still a rival, and loses its turn
    assert [o.relation for o in out] == [EQUIVALENT, EQUIVALENT, UNRELATED]
    alone = one_partner(pairs[:2], [_s(0.99), _s(0.99)])  # without the twins check: an ambiguous tie
    assert all(o.relation not in HEDGEABLE for o in alone)


def test_twins_need_two_known_events_and_two_titles() -> None:
    """Siblings of one event are exclusive outcomes, and one title listed twice differs in its rules
    (three Kalshi "New pandemic by 2025?" markets: H5N1, mpox, any): none of these are twins, and
    the model is never asked."""
    q = "New pandemic by 2025?"
    h5n1 = Market(
        venue="kalshi", market_id="KXNEWOUTBREAKPH5N1-25", question=q, event_id="KXNEWOUTBREAKPH5N1"
    )
    mpox = Market(
        venue="kalshi", market_id="KXNEWOUTBREAKPMPOX-25", question=q, event_id="KXNEWOUTBREAKPMPOX"
    )
    a = Market(venue="kalshi", market_id="E-A", question="Will A win?", event_id="E")
    b = Market(venue="kalshi", market_id="E-B", question="Will B win?", event_id="E")
    loose = Market(venue="kalshi", market_id="X", question="Will A win it?")
    for x, y in ((h5n1, mpox), (a, b), (a, loose)):
        assert not _twins(None, None, x, y)  # type: ignore[arg-type]


def test_a_near_tie_between_free_partners_keeps_neither() -> None:
    sept5, film_a, film_b = _m("kalshi", "SEPT5"), _m("poly", "A"), _m("poly", "B")
    out = one_partner([(sept5, film_a), (sept5, film_b)], [_s(0.90), _s(0.89)])
    assert all(o.relation not in HEDGEABLE for o in out)


def test_a_vetoed_same_call_never_becomes_an_actionable_relation() -> None:
    """Overlapping buckets ('10% to 14.9%' against '10% to 15%') look most like 'same' and next like
    the exclusive siblings of one event; once a hard facet refuses 'same', the runner-up is no trade."""
    probs = {
        "equivalent": 0.80,
        "inverse": 0.0,
        "mutually_exclusive": 0.12,
        "a_implies_b": 0.05,
        "overlapping": 0.02,
        "unrelated": 0.01,
    }
    out = veto(Scored("equivalent", 0.80, probs, 0.80))
    assert out.relation == "overlapping" and out.note
    flipped = veto(Scored("equivalent", 0.80, {**probs, "unrelated": 0.03}, 0.80), "ambiguous")
    assert flipped.relation == "unrelated" and flipped.note == "ambiguous"
