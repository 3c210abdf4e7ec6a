"""From one matched pair and its books to a candidate: an executable opportunity, or an exclusion.

The complete sets of each relation are ``oneprice.core.match.complete_sets``; fees, ticks and whether a
venue is executable come from its description (``oneprice.core.venues``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from oneprice.arbitrage import safety
from oneprice.core import venues
from oneprice.core.errors import InputError
from oneprice.core.fees import NotExecutableError
from oneprice.core.match import BOUNDS, EQUIVALENCE, Match, ReviewStatus, complete_sets, other
from oneprice.core.pricing import Leg, SetFill, max_positive_size, set_depth, walk_set
from oneprice.core.types import ONE, ZERO, Market, OrderBook

RELATIONS = (*EQUIVALENCE, *BOUNDS)
__all__ = ["BOUNDS", "EQUIVALENCE", "RELATIONS", "complete_sets", "other"]


@dataclass(frozen=True)
class PairSpec:
    match_id: int
    relation: str
    outcome_map: Mapping[str, str]
    status: str
    confidence: float
    market_a: Market
    market_b: Market
    a_id: int = 0  # database ids of the markets
    b_id: int = 0

    @property
    def match(self) -> Match:
        """The domain match this pair prices."""
        return Match(
            self.match_id,
            self.a_id,
            self.b_id,
            self.relation,
            self.outcome_map,
            self.confidence,
            ReviewStatus(self.status),
        )


@dataclass(frozen=True)
class Params:
    target_size: Decimal = Decimal(100)
    max_book_age_s: float = 120.0
    confirmed_confidence: float = 0.99
    mismatch_loss: Decimal = ONE  # dollars lost per contract if the pair resolves differently

    def __post_init__(self) -> None:
        """A size or loss that would silently price nothing (negative, zero, NaN) is refused."""
        if not (self.target_size.is_finite() and self.target_size > 0):
            raise InputError(f"target size must be a positive number of contracts, not {self.target_size}")
        if not (self.mismatch_loss.is_finite() and self.mismatch_loss >= 0):
            raise InputError(f"mismatch loss must be a finite amount >= 0, not {self.mismatch_loss}")
        if not (math.isfinite(self.max_book_age_s) and self.max_book_age_s > 0):
            raise InputError(f"max book age must be a positive number of seconds, not {self.max_book_age_s}")


@dataclass
class Candidate:
    pair: PairSpec
    kind: str
    legs: list[dict[str, Any]] = field(default_factory=list)
    excluded: str | None = None
    size: Decimal = ZERO
    edge: Decimal | None = None
    profit: Decimal | None = None
    cost: Decimal | None = None
    fees: Decimal | None = None
    edge_at_target: Decimal | None = None
    size_at_target: Decimal = ZERO  # min(target size, depth of the complete set)
    max_size: Decimal = ZERO
    ret: Decimal | None = None
    annualized: Decimal | None = None
    days: float | None = None
    settle_at: datetime | None = None
    confidence: float = 0.0
    risk_adjusted_edge: Decimal | None = None
    book_ts: datetime | None = None
    book_age_s: float | None = None
    mid_gap: Decimal | None = None
    flags: list[str] = field(default_factory=list)  # safety.flags: unreviewed, thin_rules, held_for_review

    @property
    def is_opportunity(self) -> bool:
        return self.excluded is None and self.max_size >= 1 and (self.edge or ZERO) > 0

    @property
    def reviewed(self) -> bool:
        return self.pair.status == "confirmed"

    @property
    def clean(self) -> bool:
        """An opportunity with no safety flag: reviewed, decidable rules, an edge in the usual range."""
        return self.is_opportunity and not self.flags


def tick_of(market: Market) -> Decimal:
    return venues.tick_of(market.venue, market.extra.get("tick_size"))


def book_mid(books: Mapping[str, OrderBook], outcome: str) -> Decimal | None:
    """Mid of ``outcome``'s book, or one minus the mid of its complement."""
    for name, flip in ((outcome, False), (other(outcome), True)):
        b = books.get(name)
        if b is not None and b.best_bid is not None and b.best_ask is not None:
            mid = (b.best_bid + b.best_ask) / 2
            return ONE - mid if flip else mid
    return None


def mid_gap(
    pair: PairSpec, books_a: Mapping[str, OrderBook], books_b: Mapping[str, OrderBook]
) -> Decimal | None:
    """Mid-price deviation from the no-arbitrage relation (positive = violated, absolute for equivalence)."""
    ma, mb = book_mid(books_a, "Yes"), book_mid(books_b, "Yes")
    if ma is None or mb is None:
        return None
    r = pair.relation
    if r in EQUIVALENCE:
        mapped = complete_sets(r, pair.outcome_map)[1][1]  # B outcome hedging A:No pays when A is Yes
        mb_y = mb if mapped == "Yes" else ONE - mb
        return abs(ma - mb_y)
    if r == "a_implies_b":
        return ma - mb
    if r == "b_implies_a":
        return mb - ma
    return ma + mb - ONE


def exclusion(
    pair: PairSpec,
    books_a: Mapping[str, OrderBook] | None,
    books_b: Mapping[str, OrderBook] | None,
    as_of: datetime,
    params: Params,
) -> str | None:
    """Why this pair cannot be traded as an arbitrage now, or None."""
    for m in (pair.market_a, pair.market_b):
        if not (m.executable and venues.describe(m.venue).executable):
            return f"play_money: {m.venue} {m.market_id} is not real money"
    for m in (pair.market_a, pair.market_b):
        if venues.describe(m.venue).neg_risk and m.extra.get("neg_risk_augmented"):
            return (
                f"neg_risk_augmented: {m.venue} {m.market_id} sits in an augmented neg-risk event with an "
                "implicit 'Other' outcome; its terms can be reassigned"
            )
    for m in (pair.market_a, pair.market_b):
        if m.status != "open":
            return f"closed: {m.venue} {m.market_id} is {m.status}"
    for m, books in ((pair.market_a, books_a), (pair.market_b, books_b)):
        if not books:
            return f"missing_book: {m.venue} {m.market_id}"
    for books in (books_a, books_b):
        for b in (books or {}).values():
            age = (as_of - b.ts).total_seconds()
            if age > params.max_book_age_s:
                return f"stale_book: {b.venue} {b.market_id} {b.outcome} book is {age:.0f}s old"
    return None


def _legs(
    pair: PairSpec, oa: str, ob: str, books_a: Mapping[str, OrderBook], books_b: Mapping[str, OrderBook]
) -> list[Leg] | str:
    legs = []
    for m, outcome, books in ((pair.market_a, oa, books_a), (pair.market_b, ob, books_b)):
        book = books.get(outcome)
        if book is None:
            return f"missing_book: {m.venue} {m.market_id} {outcome}"
        if not book.asks:
            return f"closed: {m.venue} {m.market_id} {outcome} has no asks"
        try:
            fee = venues.fee_model(m.venue, m.extra)
        except NotExecutableError as exc:
            return f"play_money: {exc}"
        legs.append(Leg(m.venue, m.market_id, outcome, book, fee, tick_of(m)))
    return legs


def _fill_legs(fill: SetFill, legs: list[Leg]) -> list[dict[str, Any]]:
    return [
        {
            "venue": lf.venue,
            "market_id": lf.market_id,
            "outcome": lf.outcome,
            "filled": str(lf.filled),
            "avg_price": str(lf.avg_price) if lf.avg_price is not None else None,
            "worst_price": str(lf.worst_price) if lf.worst_price is not None else None,
            "fee": str(lf.fee),
            "levels": lf.levels,
            "book_ts": leg.book.ts.isoformat(),
        }
        for lf, leg in zip(fill.legs, legs, strict=True)
    ]


def evaluate(
    pair: PairSpec,
    books_a: Mapping[str, OrderBook] | None,
    books_b: Mapping[str, OrderBook] | None,
    as_of: datetime,
    params: Params,
) -> Candidate | None:
    """Price every complete set of the pair and keep the best one; None for non-hedgeable relations."""
    sets = complete_sets(pair.relation, pair.outcome_map)
    if not sets:
        return None
    kind = sets[0][2]
    conf = (
        max(pair.confidence, params.confirmed_confidence) if pair.status == "confirmed" else pair.confidence
    )
    cand = Candidate(pair, kind, confidence=conf)
    cand.flags = safety.flags(pair.market_a, pair.market_b, cand.reviewed, None)
    all_books = [b for bs in (books_a, books_b) if bs for b in bs.values()]
    if all_books:
        cand.book_ts = min(b.ts for b in all_books)
        cand.book_age_s = (as_of - cand.book_ts).total_seconds()
    cand.excluded = exclusion(pair, books_a, books_b, as_of, params)
    if cand.excluded or books_a is None or books_b is None:
        return cand
    cand.mid_gap = mid_gap(pair, books_a, books_b)
    best: tuple[Decimal, SetFill, SetFill, Decimal, list[Leg]] | None = None
    reasons = []
    for oa, ob, _ in sets:
        legs = _legs(pair, oa, ob, books_a, books_b)
        if isinstance(legs, str):
            reasons.append(legs)
            continue
        size = min(params.target_size, set_depth(legs))
        if size < 1:
            reasons.append(f"no_depth: {oa}/{ob}")
            continue
        at_target = walk_set(legs, size)
        max_size = max_positive_size(legs)
        shown = walk_set(legs, min(size, max_size)) if max_size >= 1 else at_target
        if best is None or shown.edge > best[1].edge:
            best = (max_size, shown, at_target, size, legs)
    if best is None:
        cand.excluded = reasons[0] if reasons else "no_depth"
        return cand
    max_size, shown, at_target, cand.size_at_target, legs = best
    cand.legs = _fill_legs(shown, legs)
    cand.size, cand.edge, cand.profit = shown.size, shown.edge, shown.profit
    cand.cost, cand.fees, cand.max_size, cand.edge_at_target = (
        shown.cost,
        shown.fees,
        max_size,
        at_target.edge,
    )
    cand.risk_adjusted_edge = shown.edge - Decimal(str(round(1 - conf, 6))) * params.mismatch_loss
    cand.flags = safety.flags(pair.market_a, pair.market_b, cand.reviewed, cand.edge)
    _lockup(cand, shown, as_of)
    return cand


def _lockup(cand: Candidate, fill: SetFill, as_of: datetime) -> None:
    """Return on capital to the later settlement; simple annualisation over at least one day."""
    closes = [t for t in (cand.pair.market_a.close_time, cand.pair.market_b.close_time) if t is not None]
    capital = fill.cost + fill.fees
    if capital > 0:
        cand.ret = fill.profit / capital
    if closes and cand.ret is not None:
        cand.settle_at = max(closes)
        cand.days = max((cand.settle_at - as_of).total_seconds() / 86400, 1.0)
        cand.annualized = cand.ret * Decimal(365) / Decimal(str(round(cand.days, 6)))
