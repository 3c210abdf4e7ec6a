"""The one small interface every venue client implements, and the registry.

To add a venue: subclass ``VenueClient`` in ``oneprice/ingest/venues/<name>.py``, declare ``name`` and
``capabilities``, implement the methods for those capabilities, decorate the class with
``@register_venue``, and import the module in ``oneprice/ingest/venues/__init__.py``.
Parsers are pure functions from the venue's JSON to ``oneprice.core`` types; pagination, rate limits,
retries and unit quirks stay inside the client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from oneprice.core import Bar, Event, Market, OrderBook, ParseError, Quote, UnknownVenueError, Venue


class Capability(StrEnum):
    EVENTS = "events"
    MARKETS = "markets"
    ORDER_BOOK = "order_book"
    PRICE_HISTORY = "price_history"
    OHLCV = "ohlcv"


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of results. ``rejects`` are records skipped with their reasons; ``cursor`` resumes.

    ``quotes`` and ``books`` carry prices observed with the page's markets (a listing's bid/ask, the
    snapshot's recorded quotes), so they are written in the same transaction as their markets.
    """

    items: list[T] = field(default_factory=list)
    rejects: list[ParseError] = field(default_factory=list)
    cursor: str | None = None  # where the *next* page starts; None on the last page
    quotes: list[Quote] = field(default_factory=list)
    books: list[OrderBook] = field(default_factory=list)


class VenueClient:
    """Async client of one venue. Use as ``async with client: ...``."""

    name: ClassVar[str]
    venue: ClassVar[Venue]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    async def __aenter__(self) -> VenueClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release connections."""

    def supports(self, cap: Capability) -> bool:
        return cap in self.capabilities

    def _unsupported(self, cap: Capability) -> NotImplementedError:
        return NotImplementedError(f"{self.name} does not support {cap}")

    def events(self, *, cursor: str | None = None, limit: int | None = None) -> AsyncIterator[Page[Event]]:
        """Pages of events with their markets, starting at ``cursor``."""
        raise self._unsupported(Capability.EVENTS)

    def markets(self, *, cursor: str | None = None, limit: int | None = None) -> AsyncIterator[Page[Market]]:
        """Pages of markets, starting at ``cursor``; at most ``limit`` markets in all."""
        raise self._unsupported(Capability.MARKETS)

    async def order_books(self, market: Market) -> list[OrderBook]:
        """The current book of each tradable outcome of ``market`` (YES and NO for binaries)."""
        raise self._unsupported(Capability.ORDER_BOOK)

    async def price_history(
        self, market: Market, start: datetime, end: datetime, interval: str = "1h"
    ) -> list[Quote]:
        """Historical prices of ``market`` between ``start`` and ``end``."""
        raise self._unsupported(Capability.PRICE_HISTORY)

    def ohlcv(
        self, symbol: str, timeframe: str, since: datetime, until: datetime | None = None
    ) -> AsyncIterator[Page[Bar]]:
        """Pages of bars for ``symbol`` from ``since`` (inclusive) to ``until`` (exclusive)."""
        raise self._unsupported(Capability.OHLCV)


VENUES: dict[str, type[VenueClient]] = {}

C = TypeVar("C", bound=type[VenueClient])


def register_venue(cls: C) -> C:
    """Class decorator adding a client to the registry under ``cls.name``."""
    VENUES[cls.name] = cls
    return cls


def check_venue(name: str) -> str:
    """``name`` if a client is registered for it (``ccxt:<exchange>`` included), else ``UnknownVenueError``
    naming the allowed values."""
    import oneprice.ingest.venues  # noqa: F401  (registers the built-in venues)

    base = name.partition(":")[0]
    if base not in VENUES:
        allowed = ", ".join(f"{v}:<exchange>" if v == "ccxt" else v for v in sorted(VENUES))
        raise UnknownVenueError(f"unknown venue {name!r}; allowed: {allowed}")
    return name


def make_client(name: str, **kwargs: Any) -> VenueClient:
    """Build the client registered as ``name`` (``ccxt:<exchange>`` selects a ccxt exchange)."""
    base, _, arg = check_venue(name).partition(":")
    factory: Callable[..., VenueClient] = VENUES[base]
    return factory(arg, **kwargs) if arg else factory(**kwargs)
