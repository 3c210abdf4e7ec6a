"""What shared code needs to know about a venue, in one place: ``describe(name)``.

Scanner, deviations, convergence backtest and ingest ask the description (is it executable, which fee
schedule, its tick and how the venue reports it, whether its close times are reliable) instead of
branching on venue names. Venue-specific parsing stays in ``ingest/parsers`` and ``ingest/venues``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from oneprice.core.fees import SCHEDULES, FeeModel, NotExecutableError
from oneprice.core.types import Venue, VenueKind

KNOWN: dict[str, Venue] = {
    v.name: v
    for v in (
        # Kalshi sets one close time per series (not per market); a ticker is its event's plus a suffix.
        Venue(
            "kalshi",
            fee_schedule="kalshi",
            close_times_reliable=False,
            event_in_market_id=True,
            series_field="event_ticker",
        ),
        Venue("polymarket", fee_schedule="polymarket", neg_risk=True),
        Venue("predictit", fee_schedule="predictit"),
        Venue("manifold", executable=False),  # play money (mana)
        Venue("ccxt", VenueKind.CRYPTO),
        Venue("replay"),
    )
}


def describe(name: str) -> Venue:
    """The description of venue ``name`` (an unknown venue: executable, no fee schedule)."""
    return KNOWN.get(name) or Venue(name)


def stored(name: str) -> Venue:
    """The description the ``venues`` table stores for ``name``: a venue not known here is a crypto
    exchange (the exchange of stored bars, named by ccxt)."""
    return KNOWN.get(name) or Venue(name, VenueKind.CRYPTO)


def fee_model(venue: str | Venue, extra: Mapping[str, Any] | None = None) -> FeeModel:
    """The taker fee model of ``venue`` for a market with these ``extra`` facts.

    Raises ``NotExecutableError`` for play money and ``KeyError`` for a venue without a fee schedule."""
    v = venue if isinstance(venue, Venue) else describe(venue)
    if not v.executable:
        raise NotExecutableError(f"{v.name} trades play money")
    if v.fee_schedule is None or v.fee_schedule not in SCHEDULES:
        raise KeyError(f"no fee model for venue {v.name!r}")
    return SCHEDULES[v.fee_schedule](extra or {})


def tick_of(venue: str | Venue, raw: Any) -> Decimal:
    """A market's tick in dollars from the raw value its venue reports (default one cent)."""
    v = venue if isinstance(venue, Venue) else describe(venue)
    try:
        t = Decimal(str(raw)) if raw not in (None, "") else v.tick
    except ArithmeticError:
        return v.tick
    if t >= 1:  # reported in cents (Kalshi)
        t = t / 100
    return t if 0 < t < 1 else v.tick
