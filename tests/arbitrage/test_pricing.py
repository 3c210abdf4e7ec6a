"""Book walking and edge maths: worked examples and Hypothesis properties."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from oneprice.arbitrage.detect import Params, evaluate
from oneprice.core import OrderBook
from oneprice.core.pricing import Leg, max_positive_size, set_depth, walk_set
from oneprice.core.venues import fee_model

from .arb_helpers import T0, book, market, pair

D = Decimal
POLY_FEES = {"fee_rate": "0.02", "fee_exponent": "1"}


def test_two_level_walk_on_kalshi() -> None:
    k_yes = book("kalshi", "KX", "Yes", [("0.40", "60"), ("0.42", "100")])
    p_no = book("polymarket", "0xp", "No", [("0.55", "100")])
    legs = [
        Leg("kalshi", "KX", "Yes", k_yes, fee_model("kalshi")),
        Leg("polymarket", "0xp", "No", p_no, fee_model("polymarket", {})),
    ]
    fill = walk_set(legs, D(100))
    # Kalshi: 60 x 0.40 + 40 x 0.42 = 40.80; fee 0.07(60x0.4x0.6 + 40x0.42x0.58) = 1.69008 -> 1.70
    assert fill.legs[0].cost == D("40.80") and fill.legs[0].fee == D("1.70")
    assert fill.legs[0].worst_price == D("0.42") and fill.legs[0].levels == 2
    assert fill.legs[1].cost == D("55.00") and fill.legs[1].fee == 0
    assert fill.profit == D("2.50") and fill.edge == D("0.025")


def test_two_level_walk_on_polymarket() -> None:
    p_yes = book("polymarket", "0xp", "Yes", [("0.30", "50"), ("0.32", "100")])
    k_no = book("kalshi", "KX", "No", [("0.60", "200")])
    legs = [
        Leg("polymarket", "0xp", "Yes", p_yes, fee_model("polymarket", POLY_FEES)),
        Leg("kalshi", "KX", "No", k_no, fee_model("kalshi")),
    ]
    fill = walk_set(legs, D(100))
    # Polymarket: 50 x 0.30 + 50 x 0.32 = 31; fee 50x0.02x0.21 + 50x0.02x0.2176 = 0.4276
    assert fill.legs[0].cost == D("31.00") and fill.legs[0].fee == D("0.42760")
    # Kalshi: 60.00, fee 0.07 x 100 x 0.6 x 0.4 = 1.68
    assert fill.legs[1].fee == D("1.68")
    assert fill.profit == D("6.89240")


def test_tick_rounds_asks_up() -> None:
    b = book("polymarket", "0xp", "Yes", [("0.3012", "10")])
    leg = Leg("polymarket", "0xp", "Yes", b, fee_model("polymarket", {}), tick=D("0.01"))
    assert leg.asks[0].price == D("0.31")


def test_max_positive_size_stops_where_edge_turns_negative() -> None:
    k_yes = book("kalshi", "KX", "Yes", [("0.40", "60"), ("0.56", "100")])
    p_no = book("polymarket", "0xp", "No", [("0.50", "500")])
    legs = [
        Leg("kalshi", "KX", "Yes", k_yes, fee_model("kalshi")),
        Leg("polymarket", "0xp", "No", p_no, fee_model("polymarket", {})),
    ]
    s = max_positive_size(legs)
    assert 60 < s < 160
    assert walk_set(legs, s).edge > 0 >= walk_set(legs, s + 1).edge


# ---- properties -------------------------------------------------------------------------------

probs = st.integers(min_value=2, max_value=98).map(lambda c: D(c) / 100)
level_sizes = st.integers(min_value=1, max_value=300).map(D)


@st.composite
def asks_at_or_above(draw: st.DrawFn, floor: Decimal) -> list[tuple[str, str]]:
    n = draw(st.integers(min_value=1, max_value=4))
    lo = int(floor * 100)
    cents = sorted(draw(st.lists(st.integers(min_value=min(lo, 99), max_value=99), min_size=n, max_size=n)))
    return [(str(D(c) / 100), str(draw(level_sizes))) for c in cents]


@st.composite
def consistent_books(draw: st.DrawFn) -> tuple[dict[str, OrderBook], dict[str, OrderBook]]:
    """Both venues priced around one probability q: every YES ask >= q and every NO ask >= 1 - q."""
    q = draw(probs)
    out = []
    for venue, mid in (("kalshi", "KX"), ("polymarket", "0xp")):
        out.append(
            {
                o: book(venue, mid, o, draw(asks_at_or_above(q if o == "Yes" else 1 - q)))
                for o in ("Yes", "No")
            }
        )
    return out[0], out[1]


@given(consistent_books(), st.integers(min_value=1, max_value=1000).map(D))
@settings(max_examples=150, deadline=None)
def test_consistent_books_never_show_a_positive_edge(books: tuple, target: Decimal) -> None:
    a = market("kalshi", "KX")
    b = market("polymarket", "0xp", extra=POLY_FEES)
    cand = evaluate(pair("equivalent", a=a, b=b), books[0], books[1], T0, Params(target_size=target))
    assert cand is not None and cand.excluded is None
    assert not cand.is_opportunity and cand.max_size == 0
    assert cand.edge is not None and cand.edge <= 0


@st.composite
def any_legs(draw: st.DrawFn) -> list[Leg]:
    legs = []
    for venue, extra in (("kalshi", {}), (draw(st.sampled_from(["polymarket", "predictit"])), POLY_FEES)):
        b = book(venue, "m", "Yes", draw(asks_at_or_above(D("0.01"))))
        legs.append(Leg(venue, "m", "Yes", b, fee_model(venue, extra)))
    return legs


@given(any_legs(), st.data())
@settings(max_examples=200, deadline=None)
def test_edge_never_increases_with_size(legs: list[Leg], data: st.DataObject) -> None:
    depth = int(set_depth(legs))
    s1 = data.draw(st.integers(min_value=1, max_value=depth))
    s2 = data.draw(st.integers(min_value=s1, max_value=depth))
    small, large = walk_set(legs, D(s1), exact=True), walk_set(legs, D(s2), exact=True)
    assert large.edge <= small.edge
    # with the venues' fee rounding the edge can only gain the rounding (under a cent per leg) back
    rounded_small, rounded_large = walk_set(legs, D(s1)), walk_set(legs, D(s2))
    assert rounded_large.edge <= rounded_small.edge + D("0.02") / s1 + D("0.00001")
    assert large.fees >= small.fees  # fees never decrease with size, on the whole set too
    assert walk_set(legs, D(s2)).fees >= walk_set(legs, D(s1)).fees


def _swap(books: dict[str, OrderBook]) -> dict[str, OrderBook]:
    return {
        ("No" if o == "Yes" else "Yes"): OrderBook(
            b.venue, b.market_id, "No" if o == "Yes" else "Yes", b.ts, b.bids, b.asks
        )
        for o, b in books.items()
    }


@given(consistent_books(), probs, probs, st.integers(min_value=1, max_value=400).map(D))
@settings(max_examples=100, deadline=None)
def test_inverse_pair_is_priced_with_the_flipped_outcome(
    books: tuple, p1: Decimal, p2: Decimal, target: Decimal
) -> None:
    books_a = dict(books[0])
    books_a["Yes"] = book(
        "kalshi", "KX", "Yes", [(str(p1), "150"), (str(min(p1 + D("0.02"), D("0.99"))), "50")]
    )
    books_b = dict(books[1])
    books_b["No"] = book("polymarket", "0xp", "No", [(str(p2), "120")])
    a, b = market("kalshi", "KX"), market("polymarket", "0xp", extra=POLY_FEES)
    params = Params(target_size=target)
    inv = evaluate(pair("inverse", a=a, b=b), books_a, books_b, T0, params)
    eq = evaluate(pair("equivalent", a=a, b=b), books_a, _swap(books_b), T0, params)
    assert inv is not None and eq is not None
    assert (inv.edge, inv.size, inv.max_size, inv.fees) == (eq.edge, eq.size, eq.max_size, eq.fees)
    # the inverse pair buys the same-named outcome on B (YES+YES or NO+NO), never the equivalent's hedge
    a_out, b_out = inv.legs[0]["outcome"], inv.legs[1]["outcome"]
    assert a_out == b_out
    assert eq.legs[1]["outcome"] != b_out


def test_staleness_is_measured_against_as_of() -> None:
    old = T0 - timedelta(seconds=600)
    ba = {"Yes": book("kalshi", "KX", "Yes", [("0.4", "10")], ts=old)}
    bb = {"No": book("polymarket", "0xp", "No", [("0.5", "10")])}
    cand = evaluate(pair(), ba, bb, T0, Params(max_book_age_s=120))
    assert cand is not None and cand.excluded is not None and cand.excluded.startswith("stale_book")
    assert cand.book_age_s == 600


@st.composite
def bound_books(draw: st.DrawFn, relation: str) -> tuple[dict[str, OrderBook], dict[str, OrderBook]]:
    """Books consistent with the relation's bound: P(A) <= P(B), or P(A) + P(B) <= 1."""
    qa = draw(probs)
    if relation == "a_implies_b":
        qb = draw(st.integers(min_value=int(qa * 100), max_value=98).map(lambda c: D(c) / 100))
    else:
        qb = draw(st.integers(min_value=2, max_value=max(2, 100 - int(qa * 100))).map(lambda c: D(c) / 100))
    out = []
    for (venue, mid), q in ((("kalshi", "KX"), qa), (("polymarket", "0xp"), qb)):
        out.append(
            {
                o: book(venue, mid, o, draw(asks_at_or_above(q if o == "Yes" else 1 - q)))
                for o in ("Yes", "No")
            }
        )
    return out[0], out[1]


@given(
    st.sampled_from(["a_implies_b", "mutually_exclusive"]).flatmap(
        lambda r: st.tuples(st.just(r), bound_books(r))
    )
)
@settings(max_examples=150, deadline=None)
def test_respected_bounds_never_show_a_positive_edge(case: tuple) -> None:
    relation, (ba, bb) = case
    cand = evaluate(pair(relation), ba, bb, T0, Params())
    assert cand is not None and cand.kind == "bound" and cand.excluded is None
    assert not cand.is_opportunity and cand.edge is not None and cand.edge <= 0
