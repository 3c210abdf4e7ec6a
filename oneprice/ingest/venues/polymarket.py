"""Polymarket client: Gamma ``/events`` and ``/markets`` (offset pagination), CLOB ``/book`` and
``/prices-history``. Public endpoints; no credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from oneprice.config import Settings
from oneprice.core import Event, Market, OrderBook, ParseError, Quote, Venue
from oneprice.ingest.base import Capability, Page, VenueClient, register_venue
from oneprice.ingest.http import HttpClient, Sleep
from oneprice.ingest.paging import event_pages, market_pages
from oneprice.ingest.parsers import polymarket as p

FIDELITY = {"1m": 1, "1h": 60, "1d": 1440}


@register_venue
class PolymarketClient(VenueClient):
    name: ClassVar[str] = "polymarket"
    venue: ClassVar[Venue] = Venue("polymarket")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.EVENTS, Capability.MARKETS, Capability.ORDER_BOOK, Capability.PRICE_HISTORY}
    )

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        gamma_url: str | None = None,
        clob_url: str | None = None,
        rate_per_s: float | None = None,
        page_size: int = 100,
        closed: bool = False,
        sleep: Sleep | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        s = self.settings
        self.gamma = HttpClient(
            "polymarket", gamma_url or s.polymarket_gamma_url, settings=s, rate_per_s=rate_per_s, sleep=sleep
        )
        self.clob = HttpClient(
            "polymarket", clob_url or s.polymarket_clob_url, settings=s, rate_per_s=rate_per_s, sleep=sleep
        )
        self.page_size = page_size
        self.closed = closed

    async def aclose(self) -> None:
        await self.gamma.aclose()
        await self.clob.aclose()

    async def _pages(self, path: str, cursor: str | None) -> AsyncIterator[tuple[list[Any], str | None]]:
        offset = int(cursor or 0)
        while True:
            params = {"limit": self.page_size, "offset": offset, "closed": str(self.closed).lower()}
            rows = await self.gamma.get_json(path, params)
            if not isinstance(rows, list):
                raise ParseError("bad_type:page", f"{path} returned {type(rows).__name__}, expected a list")
            offset += len(rows)
            nxt = str(offset) if len(rows) >= self.page_size else None
            yield rows, nxt
            if nxt is None:
                return

    def events(self, *, cursor: str | None = None, limit: int | None = None) -> AsyncIterator[Page[Event]]:
        return event_pages(self._pages("/events", cursor), p.parse_event, p.parse_market, limit)

    def markets(self, *, cursor: str | None = None, limit: int | None = None) -> AsyncIterator[Page[Market]]:
        return market_pages(self._pages("/markets", cursor), p.parse_market, limit)

    async def order_books(self, market: Market) -> list[OrderBook]:
        """One book per outcome that has a CLOB token id ("Yes" and "No" for binaries)."""
        books = []
        for o in market.outcomes:
            if not o.token_id:
                continue
            body = await self.clob.get_json("/book", {"token_id": o.token_id})
            books.append(p.parse_book(body, market.market_id, o.name, datetime.now(UTC)))
        return books

    async def price_history(
        self, market: Market, start: datetime, end: datetime, interval: str = "1h"
    ) -> list[Quote]:
        if interval not in FIDELITY:
            raise ValueError(f"Polymarket price history supports {sorted(FIDELITY)}, not {interval!r}")
        out: list[Quote] = []
        for o in market.outcomes:
            if not o.token_id:
                continue
            params = {
                "market": o.token_id,
                "startTs": int(start.timestamp()),
                "endTs": int(end.timestamp()),
                "fidelity": FIDELITY[interval],
            }
            body = await self.clob.get_json("/prices-history", params)
            quotes, _rejects = p.parse_prices_history(body, market.market_id, o.name)
            out.extend(quotes)
        return out
