"""Write pages of domain objects to the database with bulk idempotent upserts on natural keys.

``write_page`` runs inside the caller's transaction, so a page and the ingest run's checkpoint commit
together or not at all. Each record is checked first (``ingest.validate``): one that no backend could
store is dropped and appended to ``page.rejects`` with its reason, so it never fails the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oneprice.core import Bar, Event, Level, Market, OrderBook, Quote
from oneprice.core.venues import stored
from oneprice.db import models as m
from oneprice.db.upsert import UpsertCounts, upsert
from oneprice.ingest import validate
from oneprice.ingest.base import Page


@dataclass
class WriteCounts:
    fetched: int = 0
    orphans: int = 0  # quotes/books whose market is not in the database (skipped)
    rejected: int = 0  # records this write left out as unstorable (appended to the page's rejects)
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    by_table: dict[str, UpsertCounts] = field(default_factory=dict)

    def add(self, table: str, c: UpsertCounts) -> None:
        self.counts += c
        self.by_table.setdefault(table, UpsertCounts())
        self.by_table[table] += c


def venue_rows(names: Iterable[str]) -> list[dict[str, Any]]:
    rows = []
    for n in sorted(set(names)):
        v = stored(n)
        rows.append({"name": n, "kind": str(v.kind), "executable": v.executable})
    return rows


_SIMPLE = frozenset({str, int, float, bool, type(None)})


def _jsonable(v: Any) -> Any:
    """``v`` with Decimals (and other non-JSON scalars) as text, ready for a JSON column."""
    if isinstance(v, dict):
        return {str(k): x if type(x) in _SIMPLE else _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, Decimal):
        return str(v)
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


def event_row(e: Event) -> dict[str, Any]:
    return {
        "venue": e.venue,
        "external_id": e.event_id,
        "title": e.title,
        "category": e.category,
        "close_time": e.close_time,
        "extra": _jsonable(dict(e.extra)),
        "raw": _jsonable(dict(e.raw)),
    }


def market_row(k: Market) -> dict[str, Any]:
    """A ``markets`` row; ``extra`` is made JSON-safe, ``raw`` (decoded venue JSON) is stored as is."""
    return {
        "venue": k.venue,
        "external_id": k.market_id,
        "event_external_id": k.event_id,
        "question": k.question,
        "rules": k.rules,
        "status": k.status,
        "close_time": k.close_time,
        "category": k.category,
        "executable": k.executable,
        "url": k.url,
        "extra": _jsonable(dict(k.extra)),
        "raw": dict(k.raw),  # decoded venue JSON, stored as is
        "strike_type": k.strike_type,
        "floor_strike": k.floor_strike,
        "cap_strike": k.cap_strike,
        "expected_expiration": k.expected_expiration,
        "series": k.series,
        "group_item": k.group_item,
        "resolution_source": k.resolution_source,
    }


def _levels(levels: Sequence[Level]) -> list[list[str]]:
    return [[str(lv.price), str(lv.size)] for lv in levels]


def bar_row(b: Bar) -> dict[str, Any]:
    return {
        "exchange": b.exchange,
        "symbol": b.symbol,
        "timeframe": b.timeframe,
        "ts": b.ts,
        "open": b.open,
        "high": b.high,
        "low": b.low,
        "close": b.close,
        "volume": b.volume,
    }


def market_ids(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    want = set(keys)
    out: dict[tuple[str, str], int] = {}
    by_venue: dict[str, list[str]] = {}
    for v, x in want:
        by_venue.setdefault(v, []).append(x)
    for v, xs in by_venue.items():
        for i in range(0, len(xs), 500):
            q = select(m.Market.venue, m.Market.external_id, m.Market.id).where(
                m.Market.venue == v, m.Market.external_id.in_(xs[i : i + 500])
            )
            out.update({(r[0], r[1]): r[2] for r in session.execute(q)})
    return out


def write_page(session: Session, page: Page[Any], known_venues: set[str] | None = None) -> WriteCounts:
    """Upsert everything in ``page`` (events, markets, outcomes, quotes, books, bars) in ``session``.

    Records that cannot be stored are left out and appended to ``page.rejects`` (see ``validate``)."""
    out = WriteCounts()
    n_rejects = len(page.rejects)
    items, dropped = validate.page_items(page.items, page.rejects)
    quotes, books = validate.prices(page.quotes, page.books, page.rejects, dropped)
    events = [x for x in items if isinstance(x, Event)]
    markets = [x for x in items if isinstance(x, Market)] + [k for e in events for k in e.markets]
    bars = [x for x in items if isinstance(x, Bar)]
    out.rejected = len(page.rejects) - n_rejects
    out.fetched = len(markets) + len(bars) + sum(1 for e in events if not e.markets)
    venues = {e.venue for e in events} | {k.venue for k in markets} | {b.exchange for b in bars}
    if known_venues is not None:
        venues -= known_venues
    if venues:
        out.add("venues", upsert(session, m.Venue, venue_rows(venues), ["name"], returning=None)[0])
        if known_venues is not None:
            known_venues |= venues
    if events:
        out.add(
            "events",
            upsert(
                session, m.Event, [event_row(e) for e in events], ["venue", "external_id"], returning=None
            )[0],
        )
    ids: dict[tuple[str, str], int] = {}
    if markets:
        c, got = upsert(
            session, m.Market, [market_row(k) for k in markets], ["venue", "external_id"], returning="id"
        )
        out.add("markets", c)
        ids = {(k[0], k[1]): v for k, v in got.items()}
        rows = [
            {
                "market_id": ids[(k.venue, k.market_id)],
                "name": o.name,
                "token_id": o.token_id,
                "price": o.price,
            }
            for k in markets
            for o in k.outcomes
        ]
        if rows:
            out.add("outcomes", upsert(session, m.Outcome, rows, ["market_id", "name"], returning=None)[0])
    refs = {(q.venue, q.market_id) for q in quotes} | {(b.venue, b.market_id) for b in books}
    missing = refs - ids.keys()
    if missing:
        ids.update(market_ids(session, missing))
    refs_all: list[Quote | OrderBook] = [*quotes, *books]
    out.orphans = sum(1 for x in refs_all if (x.venue, x.market_id) not in ids)
    qrows = [
        {
            "market_id": ids[(q.venue, q.market_id)],
            "outcome": q.outcome,
            "ts": q.ts,
            "bid": q.bid,
            "ask": q.ask,
            "last": q.last,
            "bid_size": q.bid_size,
            "ask_size": q.ask_size,
        }
        for q in quotes
        if (q.venue, q.market_id) in ids
    ]
    if qrows:
        out.add(
            "quotes", upsert(session, m.QuoteRow, qrows, ["market_id", "outcome", "ts"], returning=None)[0]
        )
    brows = [
        {
            "market_id": ids[(b.venue, b.market_id)],
            "outcome": b.outcome,
            "ts": b.ts,
            "bids": _levels(b.bids),
            "asks": _levels(b.asks),
        }
        for b in books
        if (b.venue, b.market_id) in ids
    ]
    if brows:
        out.add(
            "books", upsert(session, m.BookSnapshot, brows, ["market_id", "outcome", "ts"], returning=None)[0]
        )
    if bars:
        out.add(
            "bars",
            upsert(
                session,
                m.Bar,
                [bar_row(b) for b in bars],
                ["exchange", "symbol", "timeframe", "ts"],
                returning=None,
            )[0],
        )
    return out


def write_books(session: Session, books: Sequence[OrderBook]) -> WriteCounts:
    """Store order-book snapshots of markets already in the database."""
    return write_page(session, Page(books=list(books)))


def write_quotes(session: Session, quotes: Sequence[Quote]) -> WriteCounts:
    return write_page(session, Page(quotes=list(quotes)))
