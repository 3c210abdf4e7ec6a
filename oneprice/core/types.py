"""Frozen domain types shared by every subsystem.

Conventions: binary-outcome prices are probabilities in [0, 1] held as ``Decimal``; contract sizes
are ``Decimal`` contracts; timestamps are timezone-aware UTC; ``raw`` keeps the venue's payload.
Crypto bars use floats (they feed numeric engines, not settlement maths).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

ZERO = Decimal(0)
ONE = Decimal(1)


class VenueKind(StrEnum):
    PREDICTION = "prediction"
    CRYPTO = "crypto"


def utc(ts: datetime) -> datetime:
    """Return ``ts`` as an aware UTC datetime; naive input is taken to be UTC already."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def to_prob(value: Any) -> Decimal:
    """Parse a probability in [0, 1] into a Decimal; raise ValueError if it is not one."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a price: {value!r}")
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a price: {value!r}") from exc
    if not d.is_finite() or d < ZERO or d > ONE:
        raise ValueError(f"price outside [0, 1]: {value!r}")
    return d


@dataclass(frozen=True, slots=True)
class Venue:
    """A venue and what shared code needs to know about it (see ``oneprice.core.venues.describe``)."""

    name: str
    kind: VenueKind = VenueKind.PREDICTION
    executable: bool = True  # False for play-money venues (Manifold)
    fee_schedule: str | None = None  # key of its taker fee schedule in ``oneprice.core.fees``
    tick: Decimal = Decimal("0.01")  # price increment where a market states none
    close_times_reliable: bool = True  # False where a close time is set per series, not per market
    neg_risk: bool = False  # the venue lists augmented negative-risk markets that are excluded
    event_in_market_id: bool = False  # a market id is its event's id plus "-<suffix>" (Kalshi tickers)
    series_field: str | None = None  # the ``extra`` field whose first "-" segment names the market's series


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str  # "Yes" / "No" or a named outcome
    token_id: str | None = None  # Polymarket CLOB token id, Kalshi side, ...
    price: Decimal | None = None  # last indicative price, a probability


@dataclass(frozen=True, slots=True)
class Market:
    venue: str
    market_id: str  # venue's natural key (Kalshi ticker, Polymarket condition id, ...)
    question: str
    outcomes: tuple[Outcome, ...] = ()
    event_id: str | None = None
    rules: str = ""
    status: str = "open"  # open | closed | settled
    close_time: datetime | None = None
    category: str = ""
    executable: bool = True
    url: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # fees, tick size, neg-risk flags
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # What the venue states about the contract, compared exactly where both markets state it:
    strike_type: str = ""  # Kalshi: greater | greater_or_equal | less | less_or_equal | between | ...
    floor_strike: float | None = None  # Kalshi: the bucket's or threshold's lower strike
    cap_strike: float | None = None  # Kalshi: its upper strike
    expected_expiration: datetime | None = None  # Kalshi: when the event is expected to settle
    series: str = ""  # Kalshi series ticker
    group_item: str = ""  # Polymarket groupItemTitle: this market's outcome within its group
    resolution_source: str = ""  # Polymarket resolutionSource

    def outcome(self, name: str) -> Outcome:
        """The outcome called ``name`` (case-insensitive); outcomes are mapped by name, never position."""
        for o in self.outcomes:
            if o.name.lower() == name.lower():
                return o
        raise KeyError(f"{self.venue}:{self.market_id} has no outcome {name!r}")


@dataclass(frozen=True, slots=True)
class Event:
    venue: str
    event_id: str
    title: str
    category: str = ""
    close_time: datetime | None = None
    markets: tuple[Market, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Quote:
    venue: str
    market_id: str
    outcome: str
    ts: datetime
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class Level:
    price: Decimal
    size: Decimal  # contracts available at this price


@dataclass(frozen=True, slots=True)
class FillResult:
    requested: Decimal
    filled: Decimal
    cost: Decimal  # total paid (buy) or received (sell), before fees
    worst_price: Decimal | None
    levels_used: int

    @property
    def complete(self) -> bool:
        return self.filled >= self.requested

    @property
    def avg_price(self) -> Decimal | None:
        return self.cost / self.filled if self.filled else None


def walk(levels: Iterable[Level], size: Decimal) -> list[tuple[Decimal, Decimal]]:
    """The one order-book walk: ``(price, contracts)`` taken from each level, best first, up to ``size``."""
    out: list[tuple[Decimal, Decimal]] = []
    remaining = size
    for lvl in levels:
        if remaining <= 0:
            break
        take = min(remaining, lvl.size)
        if take <= 0:
            continue
        out.append((lvl.price, take))
        remaining -= take
    return out


def _walk(levels: tuple[Level, ...], size: Decimal) -> FillResult:
    fills = walk(levels, size)
    filled = sum((c for _, c in fills), ZERO)
    cost = sum((p * c for p, c in fills), ZERO)
    return FillResult(size, filled, cost, fills[-1][0] if fills else None, len(fills))


@dataclass(frozen=True, slots=True)
class OrderBook:
    """One outcome's book. ``bids`` best (highest) first, ``asks`` best (lowest) first."""

    venue: str
    market_id: str
    outcome: str
    ts: datetime
    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()

    @classmethod
    def build(
        cls,
        venue: str,
        market_id: str,
        outcome: str,
        ts: datetime,
        bids: list[Level] | tuple[Level, ...],
        asks: list[Level] | tuple[Level, ...],
    ) -> OrderBook:
        """Sort levels best-first and drop empty ones, whatever order the venue sent."""
        b = tuple(sorted((lv for lv in bids if lv.size > 0), key=lambda lv: lv.price, reverse=True))
        a = tuple(sorted((lv for lv in asks if lv.size > 0), key=lambda lv: lv.price))
        return cls(venue, market_id, outcome, utc(ts), b, a)

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None

    def cost_to_buy(self, size: Decimal) -> FillResult:
        """Walk the asks to buy ``size`` contracts."""
        return _walk(self.asks, size)

    def proceeds_to_sell(self, size: Decimal) -> FillResult:
        """Walk the bids to sell ``size`` contracts."""
        return _walk(self.bids, size)

    def depth(self, side: str = "ask") -> Decimal:
        levels = self.asks if side == "ask" else self.bids
        return sum((lv.size for lv in levels), ZERO)


@dataclass(frozen=True, slots=True)
class Bar:
    exchange: str
    symbol: str  # ccxt unified symbol, e.g. "BTC/USDT"
    timeframe: str  # "1m", "1h", "1d", ...
    ts: datetime  # bar open time, UTC
    open: float
    high: float
    low: float
    close: float
    volume: float
