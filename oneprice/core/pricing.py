"""Book walking and the edge of a complete set (a basket that pays at least $1 in every state).

A complete set is bought leg by leg, each leg walked through its venue's ask book at the venue's
tick size, with that venue's taker fee. ``edge`` is per contract: (payout - cost - fees) / size.
Marginal cost including fees (p + fee'(p)) rises through a book, so the per-contract edge never
increases with size; the only exception is cent rounding of fees (at most one cent per leg per
order), which ``exact=True`` switches off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from oneprice.core.fees import FeeModel, Fill
from oneprice.core.types import ONE, ZERO, Level, OrderBook, walk


def to_tick(price: Decimal, tick: Decimal | None) -> Decimal:
    """Round an ask up to the venue's tick (a buyer never pays less than the book says)."""
    if not tick or tick <= 0:
        return price
    return (price / tick).to_integral_value(rounding=ROUND_CEILING) * tick


@dataclass(frozen=True)
class Leg:
    """Buying ``outcome`` of one market through its ask book."""

    venue: str
    market_id: str
    outcome: str
    book: OrderBook
    fee: FeeModel
    tick: Decimal | None = None
    asks: tuple[Level, ...] = field(init=False)

    def __post_init__(self) -> None:
        asks = tuple(Level(to_tick(lv.price, self.tick), lv.size) for lv in self.book.asks if lv.size > 0)
        object.__setattr__(self, "asks", asks)

    @property
    def depth(self) -> Decimal:
        return sum((lv.size for lv in self.asks), ZERO)

    def fills(self, size: Decimal) -> list[Fill]:
        return walk(self.asks, size)


@dataclass(frozen=True)
class LegFill:
    venue: str
    market_id: str
    outcome: str
    filled: Decimal
    cost: Decimal
    fee: Decimal
    worst_price: Decimal | None
    levels: int

    @property
    def avg_price(self) -> Decimal | None:
        return self.cost / self.filled if self.filled else None


@dataclass(frozen=True)
class SetFill:
    """A complete set walked to ``size`` contracts (each paying at least ``payout`` per contract)."""

    size: Decimal
    legs: tuple[LegFill, ...]
    payout: Decimal = ONE

    @property
    def complete(self) -> bool:
        return all(leg.filled >= self.size for leg in self.legs)

    @property
    def cost(self) -> Decimal:
        return sum((leg.cost for leg in self.legs), ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((leg.fee for leg in self.legs), ZERO)

    @property
    def profit(self) -> Decimal:
        return self.payout * self.size - self.cost - self.fees

    @property
    def edge(self) -> Decimal:
        """Profit per contract."""
        return self.profit / self.size if self.size else ZERO


def walk_set(legs: Sequence[Leg], size: Decimal, exact: bool = False) -> SetFill:
    """Buy ``size`` of every leg; a leg short of depth fills what it can (``complete`` is False)."""
    out = []
    for leg in legs:
        fills = leg.fills(size)
        filled = sum((c for _, c in fills), ZERO)
        cost = sum((p * c for p, c in fills), ZERO)
        fee = leg.fee(fills, exact) if fills else ZERO
        worst = fills[-1][0] if fills else None
        out.append(LegFill(leg.venue, leg.market_id, leg.outcome, filled, cost, fee, worst, len(fills)))
    return SetFill(size, tuple(out))


def set_depth(legs: Sequence[Leg]) -> Decimal:
    """Whole contracts available on every leg."""
    if not legs:
        return ZERO
    return min(leg.depth for leg in legs).to_integral_value(rounding="ROUND_FLOOR")


def _largest(legs: Sequence[Leg], hi: Decimal, exact: bool) -> Decimal:
    """Bisection for the largest size in [1, hi] with a positive edge; 0 if none."""
    lo = ZERO  # edge(0) counts as positive
    hi = hi + 1  # edge(hi + 1) counts as non-positive
    while hi - lo > 1:
        mid = ((lo + hi) / 2).to_integral_value(rounding="ROUND_FLOOR")
        if walk_set(legs, mid, exact).edge > 0:
            lo = mid
        else:
            hi = mid
    return lo


def max_positive_size(legs: Sequence[Leg], exact: bool = False) -> Decimal:
    """Largest whole size whose per-contract edge is positive (0 if none).

    Bisection on the exact curve, which is non-increasing in size (module docstring), then on the
    fee-rounded curve below it (rounding only lowers the edge of small orders).
    """
    depth = set_depth(legs)
    if depth < 1 or walk_set(legs, ONE, exact=True).edge <= 0:  # the first contract is the best one
        return ZERO
    top = _largest(legs, depth, exact=True)
    if exact or top == 0 or walk_set(legs, top).edge > 0:
        return top
    return _largest(legs, top, exact=False)
