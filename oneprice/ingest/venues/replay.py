"""The bundled snapshot served like a venue (``make_client("replay")``).

Markets keep their real venue names ("kalshi", "polymarket") with ``extra["source"] = "replay"``. Each
page of markets carries the recorded quotes of those markets and one-level books at the latest quote
(``Settings.replay_depth`` contracts per level: the recording has no sizes). Bars are served by
``ohlcv`` for the series listed by ``series()``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

from oneprice.config import Settings
from oneprice.core import Bar, Market, OrderBook, ParseError, Quote, Venue
from oneprice.ingest import snapshot
from oneprice.ingest.base import Capability, Page, VenueClient, register_venue
from oneprice.ingest.parsers import snapshot as p


@register_venue
class ReplayClient(VenueClient):
    name: ClassVar[str] = "replay"
    venue: ClassVar[Venue] = Venue("replay")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.MARKETS, Capability.ORDER_BOOK, Capability.PRICE_HISTORY, Capability.OHLCV}
    )

    def __init__(self, settings: Settings | None = None, *, page_size: int | None = None) -> None:
        self.settings = settings if settings is not None else Settings()
        self.page_size = page_size or self.settings.ingest_page_size
        self.depth = Decimal(str(self.settings.replay_depth))
        as_of = snapshot.manifest()["as_of"]
        self.as_of = datetime.fromisoformat(as_of).replace(hour=23, minute=59, second=59, tzinfo=UTC)
        self._quotes: dict[tuple[str, str], list[Quote]] | None = None
        self.quote_rejects: list[ParseError] = []

    def quotes_by_market(self) -> dict[tuple[str, str], list[Quote]]:
        """Recorded quotes per (venue, market id), oldest first."""
        if self._quotes is None:
            out: dict[tuple[str, str], list[Quote]] = defaultdict(list)
            for row in snapshot.quote_records():
                try:
                    for q in p.parse_quotes(row):
                        out[(q.venue, q.market_id)].append(q)
                except ParseError as exc:
                    self.quote_rejects.append(exc)
            for qs in out.values():
                qs.sort(key=lambda q: q.ts)
            self._quotes = dict(out)
        return self._quotes

    def _books(self, quotes: list[Quote]) -> list[OrderBook]:
        latest: dict[str, Quote] = {}
        for q in quotes:
            latest[q.outcome] = q
        return [p.one_level_book(q, self.depth) for q in latest.values()]

    async def markets(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> AsyncIterator[Page[Market]]:
        records = snapshot.market_records()
        end = len(records) if limit is None else min(len(records), limit)
        quotes = self.quotes_by_market()
        start = int(cursor or 0)
        if start == 0 and self.quote_rejects:
            yield Page(rejects=list(self.quote_rejects), cursor="0")
        while start < end:
            stop = min(end, start + self.page_size)
            page: Page[Market] = Page(cursor=str(stop) if stop < end else None)
            for rec in records[start:stop]:
                try:
                    m = p.parse_market(rec, self.as_of)
                except ParseError as exc:
                    page.rejects.append(exc)
                    continue
                page.items.append(m)
                qs = quotes.get((m.venue, m.market_id), [])
                page.quotes.extend(qs)
                page.books.extend(self._books(qs))
            yield page
            start = stop

    def series(self) -> list[tuple[str, str, str]]:
        """(exchange, symbol, timeframe) of every bar series in the snapshot."""
        seen: dict[tuple[str, str, str], None] = {}
        for row in snapshot.bar_records():
            seen.setdefault((row[0], row[1], row[2]), None)
        return list(seen)

    async def ohlcv(
        self, symbol: str, timeframe: str, since: datetime, until: datetime | None = None
    ) -> AsyncIterator[Page[Bar]]:
        size = self.page_size * 10
        page: Page[Bar] = Page()
        for row in snapshot.bar_records():
            if row[1] != symbol or row[2] != timeframe:
                continue
            try:
                bar = p.parse_bar(row)
            except ParseError as exc:
                page.rejects.append(exc)
                continue
            if bar.ts < since or (until is not None and bar.ts >= until):
                continue
            page.items.append(bar)
            if len(page.items) >= size:
                page.cursor = str(int(bar.ts.timestamp() * 1000) + 1)  # next since, in ms
                yield page
                page = Page()
        yield page

    async def order_books(self, market: Market) -> list[OrderBook]:
        return self._books(self.quotes_by_market().get((market.venue, market.market_id), []))

    async def price_history(
        self, market: Market, start: datetime, end: datetime, interval: str = "1h"
    ) -> list[Quote]:
        qs = self.quotes_by_market().get((market.venue, market.market_id), [])
        return [q for q in qs if start <= q.ts < end]
