"""Turn a venue's raw pages into ``Page`` objects: parse each record, keep rejects, honour a limit.

Clients supply an async iterator of ``(rows, next_cursor)`` and their pure parsers; the limit counts
markets across pages, and a page that reaches it ends the stream (its cursor is cleared). A cursor the
venue hands back a second time ends the stream with ``PermanentError`` instead of paging forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from oneprice.core import Event, Market, ParseError, PermanentError, Quote
from oneprice.ingest.base import Page

RawPages = AsyncIterator[tuple[list[Any], str | None]]
ParseMarket = Callable[[Any, datetime], tuple[Market, list[Quote]]]
ParseNested = Callable[[Any, datetime, Mapping[str, Any]], tuple[Market, list[Quote]]]


class _Budget:
    def __init__(self, limit: int | None) -> None:
        self.left = limit

    @property
    def spent(self) -> bool:
        return self.left is not None and self.left <= 0

    def take(self) -> None:
        if self.left is not None:
            self.left -= 1


def _market(
    parse: Callable[[], tuple[Market, list[Quote]]], page: Page[Any], budget: _Budget
) -> Market | None:
    try:
        mk, qs = parse()
    except ParseError as exc:
        page.rejects.append(exc)
        return None
    page.quotes.extend(qs)
    budget.take()
    return mk


async def _pages(
    raw: RawPages, limit: int | None, fill: Callable[[Any, datetime, Page[Any], _Budget], None]
) -> AsyncIterator[Page[Any]]:
    """The page loop both streams share: ``fill`` parses one record into the page."""
    budget = _Budget(limit)
    seen: set[str] = set()
    async for rows, nxt in raw:
        if nxt is not None:  # a venue that hands back a cursor again would page forever
            if nxt in seen:
                raise PermanentError(f"the venue repeated cursor {nxt[:40]!r} after {len(seen)} pages")
            seen.add(nxt)
        ts = datetime.now(UTC)
        page: Page[Any] = Page(cursor=nxt)
        for rec in rows:
            if budget.spent:
                break
            fill(rec, ts, page, budget)
        if budget.spent:
            page.cursor = None
        yield page
        if page.cursor is None:
            return


def market_pages(raw: RawPages, parse: ParseMarket, limit: int | None = None) -> AsyncIterator[Page[Market]]:
    """Pages of markets parsed by ``parse(record, fetched_at)``."""

    def fill(rec: Any, ts: datetime, page: Page[Any], budget: _Budget) -> None:
        mk = _market(partial(parse, rec, ts), page, budget)
        if mk is not None:
            page.items.append(mk)

    return _pages(raw, limit, fill)


def event_pages(
    raw: RawPages, parse_event: Callable[[Any], Event], parse_market: ParseNested, limit: int | None = None
) -> AsyncIterator[Page[Event]]:
    """Pages of events with their nested ``markets`` list; ``limit`` counts markets."""

    def fill(rec: Any, ts: datetime, page: Page[Any], budget: _Budget) -> None:
        try:
            ev = parse_event(rec)
        except ParseError as exc:
            page.rejects.append(exc)
            return
        markets: list[Market] = []
        for m in rec.get("markets") or []:
            if budget.spent:
                break
            mk = _market(partial(parse_market, m, ts, rec), page, budget)
            if mk is not None:
                markets.append(mk)
        page.items.append(replace(ev, markets=tuple(markets)))

    return _pages(raw, limit, fill)
