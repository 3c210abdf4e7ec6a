"""Hand-built books and pairs for the arbitrage tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from oneprice.arbitrage.detect import PairSpec
from oneprice.core import Level, Market, OrderBook, Outcome

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
D = Decimal


def book(
    venue: str,
    mid: str,
    outcome: str,
    asks: list[tuple[str, str]],
    bids: list[tuple[str, str]] = (),
    ts: datetime = T0,
) -> OrderBook:
    return OrderBook.build(
        venue, mid, outcome, ts, [Level(D(p), D(s)) for p, s in bids], [Level(D(p), D(s)) for p, s in asks]
    )


def market(venue: str, mid: str, **kw: object) -> Market:
    kw.setdefault("close_time", T0 + timedelta(days=30))
    return Market(
        venue=venue, market_id=mid, question=f"{venue} {mid}?", outcomes=(Outcome("Yes"), Outcome("No")), **kw
    )  # type: ignore[arg-type]


def pair(
    relation: str = "equivalent",
    outcome_map: dict[str, str] | None = None,
    a: Market | None = None,
    b: Market | None = None,
    status: str = "confirmed",
    confidence: float = 0.95,
) -> PairSpec:
    if outcome_map is None:
        outcome_map = {"equivalent": {"Yes": "Yes", "No": "No"}, "inverse": {"Yes": "No", "No": "Yes"}}.get(
            relation, {}
        )
    return PairSpec(
        1,
        relation,
        outcome_map,
        status,
        confidence,
        a or market("kalshi", "KX-A"),
        b or market("polymarket", "0xb"),
    )
