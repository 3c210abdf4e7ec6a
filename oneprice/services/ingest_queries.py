"""Read side of ingestion for the dashboard: overview, market search, market detail, ingest runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from oneprice.core import NotFoundError
from oneprice.db import Bar, BookSnapshot, IngestRun, Market, Outcome, QuoteRow, Venue
from oneprice.services.container import Services


@dataclass(frozen=True)
class IngestRunRow:
    id: int
    source: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    fetched: int
    inserted: int
    updated: int
    rejected: int
    rejects: dict[str, int]  # reason -> count
    errors: list[str]
    checkpoint: dict[str, Any]  # resume state (cursor, page), as the venue client keeps it


@dataclass(frozen=True)
class VenueCount:
    name: str
    kind: str
    executable: bool
    markets: int
    open_markets: int


@dataclass(frozen=True)
class BarSeries:
    exchange: str
    symbol: str
    timeframe: str
    bars: int
    first: datetime
    last: datetime


@dataclass(frozen=True)
class Overview:
    venues: list[VenueCount]
    markets: int
    quotes: int
    bar_series: list[BarSeries]
    ingest_runs: list[IngestRunRow]


@dataclass(frozen=True)
class MarketRow:
    id: int
    venue: str
    external_id: str
    event_external_id: str | None
    question: str
    status: str
    close_time: datetime | None
    category: str | None
    executable: bool
    url: str | None
    source: str  # live or replay


@dataclass(frozen=True)
class OutcomePrice:
    name: str
    token_id: str | None
    price: float | None


@dataclass(frozen=True)
class QuotePoint:
    ts: datetime
    outcome: str
    bid: float | None
    ask: float | None
    last: float | None


@dataclass(frozen=True)
class BookLevels:
    ts: datetime
    bids: list[list[float]]  # [price, size], best first
    asks: list[list[float]]


@dataclass(frozen=True)
class MarketDetail(MarketRow):
    rules: str | None
    extra: dict[str, Any]  # what the venue reported beyond the common fields
    outcomes: list[OutcomePrice]
    price_history: list[QuotePoint]
    book: dict[str, BookLevels]  # outcome -> latest snapshot


def _f(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def _run(r: IngestRun) -> IngestRunRow:
    return IngestRunRow(
        id=r.id,
        source=r.source,
        status=r.status,
        started_at=r.started_at,
        finished_at=r.finished_at,
        fetched=r.fetched,
        inserted=r.inserted,
        updated=r.updated,
        rejected=r.rejected,
        rejects=dict(r.rejects or {}),
        errors=list(r.errors or []),
        checkpoint=dict(r.checkpoint or {}),
    )


def list_ingest_runs(svc: Services, limit: int = 20) -> list[IngestRunRow]:
    """The latest ingest runs, newest first."""
    with svc.session() as s:
        return [_run(r) for r in s.scalars(select(IngestRun).order_by(IngestRun.id.desc()).limit(limit))]


def overview(svc: Services) -> Overview:
    """Venues with market counts (all and open), bar series, totals and the latest ingest runs."""
    with svc.session() as s:
        counts = {v: n for v, n in s.execute(select(Market.venue, func.count()).group_by(Market.venue))}
        open_ = {
            v: n
            for v, n in s.execute(
                select(Market.venue, func.count()).where(Market.status == "open").group_by(Market.venue)
            )
        }
        venues = [
            VenueCount(v.name, v.kind, v.executable, counts.get(v.name, 0), open_.get(v.name, 0))
            for v in s.scalars(select(Venue).order_by(Venue.name))
        ]
        series = [
            BarSeries(e, sym, tf, n, lo, hi)
            for e, sym, tf, n, lo, hi in s.execute(
                select(
                    Bar.exchange, Bar.symbol, Bar.timeframe, func.count(), func.min(Bar.ts), func.max(Bar.ts)
                )
                .group_by(Bar.exchange, Bar.symbol, Bar.timeframe)
                .order_by(Bar.exchange, Bar.symbol, Bar.timeframe)
            )
        ]
        quotes = s.scalar(select(func.count()).select_from(QuoteRow)) or 0
    return Overview(venues, sum(counts.values()), quotes, series, list_ingest_runs(svc, 10))


def _market_fields(k: Market) -> dict[str, Any]:
    return {
        "id": k.id,
        "venue": k.venue,
        "external_id": k.external_id,
        "event_external_id": k.event_external_id,
        "question": k.question,
        "status": k.status,
        "close_time": k.close_time,
        "category": k.category,
        "executable": k.executable,
        "url": k.url,
        "source": (k.extra or {}).get("source", "live"),
    }


def search_markets(
    svc: Services,
    query: str = "",
    venues: list[str] | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[MarketRow]:
    """Markets whose question (or id) contains every word of ``query``, case-insensitive."""
    q = select(Market)
    for word in query.lower().split():
        pat = f"%{word}%"
        q = q.where(func.lower(Market.question).like(pat) | func.lower(Market.external_id).like(pat))
    if venues:
        q = q.where(Market.venue.in_(venues))
    if status:
        q = q.where(Market.status == status)
    q = q.order_by(Market.close_time.is_(None), Market.close_time, Market.id).limit(limit)
    with svc.session() as s:
        return [MarketRow(**_market_fields(k)) for k in s.scalars(q)]


def market_detail(svc: Services, market_id: int) -> MarketDetail:
    """A market with rules, outcomes, its price history and the latest book snapshot per outcome."""
    with svc.session() as s:
        k = s.get(Market, market_id)
        if k is None:
            raise NotFoundError(f"no market with id {market_id}")
        outcomes = [
            OutcomePrice(o.name, o.token_id, _f(o.price))
            for o in s.scalars(select(Outcome).where(Outcome.market_id == k.id).order_by(Outcome.id))
        ]
        history = [
            QuotePoint(r.ts, r.outcome, _f(r.bid), _f(r.ask), _f(r.last))
            for r in s.scalars(
                select(QuoteRow).where(QuoteRow.market_id == k.id).order_by(QuoteRow.ts, QuoteRow.outcome)
            )
        ]
        book: dict[str, BookLevels] = {}
        for b in s.scalars(
            select(BookSnapshot).where(BookSnapshot.market_id == k.id).order_by(BookSnapshot.ts)
        ):
            book[b.outcome] = BookLevels(
                b.ts, [[float(p), float(z)] for p, z in b.bids], [[float(p), float(z)] for p, z in b.asks]
            )
        return MarketDetail(
            **_market_fields(k),
            rules=k.rules,
            extra=dict(k.extra or {}),
            outcomes=outcomes,
            price_history=history,
            book=book,
        )
