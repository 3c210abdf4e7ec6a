"""Relations, no-arbitrage bounds and known false arbitrage."""

from __future__ import annotations

from decimal import Decimal

from oneprice.arbitrage.detect import Params, complete_sets, evaluate

from .arb_helpers import T0, book, market, pair

D = Decimal


def _books(venue: str, mid: str, yes: str, no: str, size: str = "100") -> dict:
    return {
        "Yes": book(venue, mid, "Yes", [(yes, size)], [(str(D(yes) - D("0.02")), size)]),
        "No": book(venue, mid, "No", [(no, size)], [(str(D(no) - D("0.02")), size)]),
    }


def test_complete_sets_follow_the_outcome_map() -> None:
    assert complete_sets("equivalent", {"Yes": "Yes", "No": "No"}) == [
        ("Yes", "No", "equivalence"),
        ("No", "Yes", "equivalence"),
    ]
    assert complete_sets("inverse", {"Yes": "No", "No": "Yes"}) == [
        ("Yes", "Yes", "equivalence"),
        ("No", "No", "equivalence"),
    ]
    assert complete_sets("a_implies_b", {}) == [("No", "Yes", "bound")]
    assert complete_sets("b_implies_a", {}) == [("Yes", "No", "bound")]
    assert complete_sets("mutually_exclusive", {}) == [("No", "No", "bound")]
    assert complete_sets("overlapping", {}) == []


def test_equivalence_opportunity_with_lockup_and_haircut() -> None:
    a = _books("kalshi", "KX-A", "0.40", "0.62")
    b = _books("polymarket", "0xb", "0.45", "0.52")
    cand = evaluate(pair(status="proposed", confidence=0.9), a, b, T0, Params(target_size=D(100)))
    assert cand is not None and cand.is_opportunity and cand.kind == "equivalence"
    assert [lg["outcome"] for lg in cand.legs] == ["Yes", "No"]  # K:Yes 0.40 + P:No 0.52
    # cost 92, Kalshi fee ceil(0.07 x 100 x 0.4 x 0.6 = 1.68) = 1.68 -> profit 6.32
    assert cand.profit == D("6.32") and cand.edge == D("0.0632")
    assert cand.risk_adjusted_edge == D("0.0632") - D("0.1")
    assert cand.days == 30 and cand.ret == D("6.32") / D("93.68")
    assert cand.annualized == cand.ret * 365 / 30
    assert cand.mid_gap == D("0.05")  # YES mids 0.39 (bid 0.38/ask 0.40) and 0.44 (0.43/0.45)


def test_implication_bound_violation_buys_a_no_and_b_yes() -> None:
    # A implies B but P(A) = 0.60 > P(B) = 0.50: buy A:No (0.42) + B:Yes (0.51) = 0.93 < 1
    a = _books("kalshi", "KX-A", "0.61", "0.42")
    b = _books("polymarket", "0xb", "0.51", "0.52")
    cand = evaluate(pair("a_implies_b"), a, b, T0, Params())
    assert cand is not None and cand.kind == "bound" and cand.is_opportunity
    assert [(lg["venue"], lg["outcome"]) for lg in cand.legs] == [("kalshi", "No"), ("polymarket", "Yes")]
    assert cand.mid_gap is not None and cand.mid_gap > 0


def test_mutually_exclusive_bound_buys_both_no() -> None:
    a = _books("kalshi", "KX-A", "0.60", "0.41")
    b = _books("polymarket", "0xb", "0.55", "0.46")
    cand = evaluate(pair("mutually_exclusive"), a, b, T0, Params())
    assert cand is not None and cand.is_opportunity
    assert [lg["outcome"] for lg in cand.legs] == ["No", "No"]
    assert cand.profit is not None and cand.profit == 100 - 87 - cand.fees


def test_respected_bound_is_not_an_opportunity() -> None:
    a = _books("kalshi", "KX-A", "0.31", "0.71")
    b = _books("polymarket", "0xb", "0.51", "0.51")
    cand = evaluate(pair("a_implies_b"), a, b, T0, Params())
    assert cand is not None and cand.excluded is None and not cand.is_opportunity


def test_known_false_arbitrage_is_excluded_with_reason() -> None:
    a = _books("kalshi", "KX-A", "0.40", "0.62")
    b = _books("polymarket", "0xb", "0.45", "0.52")
    cases = {
        "neg_risk_augmented": pair(b=market("polymarket", "0xb", extra={"neg_risk_augmented": True})),
        "play_money": pair(b=market("manifold", "m1")),
        "closed": pair(a=market("kalshi", "KX-A", status="closed")),
    }
    for reason, p in cases.items():
        cand = evaluate(p, a, b, T0, Params())
        assert cand is not None and cand.excluded is not None and cand.excluded.startswith(reason), reason
        assert not cand.is_opportunity
    missing = evaluate(pair(), a, None, T0, Params())
    assert (
        missing is not None and missing.excluded is not None and missing.excluded.startswith("missing_book")
    )
    empty = {"Yes": book("polymarket", "0xb", "Yes", []), "No": book("polymarket", "0xb", "No", [])}
    one_side = evaluate(pair(), a, empty, T0, Params())
    assert one_side is not None and one_side.excluded is not None and "no asks" in one_side.excluded


def test_unrelated_pairs_are_not_candidates() -> None:
    assert evaluate(pair("overlapping"), {}, {}, T0, Params()) is None
