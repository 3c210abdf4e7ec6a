"""Read side of ingestion for the dashboard: overview, market search, market detail, ingest runs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from oneprice.core import NotFoundError
from oneprice.db import Bar, BookSnapshot, IngestRun, Market, Outcome, QuoteRow, Venue
from oneprice.services.container import Services


def _f(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def _run(r: IngestRun) -> dict[str, Any]:
    return {
        "id": r.id,
        "source": r.source,
        "status": r.status,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "fetched": r.fetched,
        "inserted": r.inserted,
        "updated": r.updated,
        "rejected": r.rejected,
        "rejects": dict(r.rejects or {}),
        "errors": list(r.errors or []),
        "checkpoint": dict(r.checkpoint or {}),
    }


def list_ingest_runs(svc: Services, limit: int = 20) -> list[dict[str, Any]]:
    """The latest ingest runs, newest first."""
    with svc.session() as s:
        return [_run(r) for r in s.scalars(select(IngestRun).order_by(IngestRun.id.desc()).limit(limit))]


def overview(svc: Services) -> dict[str, Any]:
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
            {
                "name": v.name,
                "kind": v.kind,
                "executable": v.executable,
                "markets": counts.get(v.name, 0),
                "open_markets": open_.get(v.name, 0),
            }
            for v in s.scalars(select(Venue).order_by(Venue.name))
        ]
        series = [
            {"exchange": e, "symbol": sym, "timeframe": tf, "bars": n, "first": lo, "last": hi}
            for e, sym, tf, n, lo, hi in s.execute(
                select(
                    Bar.exchange, Bar.symbol, Bar.timeframe, func.count(), func.min(Bar.ts), func.max(Bar.ts)
                )
                .group_by(Bar.exchange, Bar.symbol, Bar.timeframe)
                .order_by(Bar.exchange, Bar.symbol, Bar.timeframe)
            )
        ]
        quotes = s.scalar(select(func.count()).select_from(QuoteRow)) or 0
    return {
        "venues": venues,
        "markets": sum(counts.values()),
        "quotes": quotes,
        "bar_series": series,
        "ingest_runs": list_ingest_runs(svc, 10),
    }


def _market(k: Market) -> dict[str, Any]:
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
) -> list[dict[str, Any]]:
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
        return [_market(k) for k in s.scalars(q)]


def market_detail(svc: Services, market_id: int) -> dict[str, Any]:
    """A market with rules, outcomes, its price history and the latest book snapshot per outcome."""
    with svc.session() as s:
        k = s.get(Market, market_id)
        if k is None:
            raise NotFoundError(f"no market with id {market_id}")
        out = _market(k) | {"rules": k.rules, "extra": dict(k.extra or {})}
        out["outcomes"] = [
            {"name": o.name, "token_id": o.token_id, "price": _f(o.price)}
            for o in s.scalars(select(Outcome).where(Outcome.market_id == k.id).order_by(Outcome.id))
        ]
        out["price_history"] = [
            {"ts": r.ts, "outcome": r.outcome, "bid": _f(r.bid), "ask": _f(r.ask), "last": _f(r.last)}
            for r in s.scalars(
                select(QuoteRow).where(QuoteRow.market_id == k.id).order_by(QuoteRow.ts, QuoteRow.outcome)
            )
        ]
        book: dict[str, Any] = {}
        for b in s.scalars(
            select(BookSnapshot).where(BookSnapshot.market_id == k.id).order_by(BookSnapshot.ts)
        ):
            book[b.outcome] = {
                "ts": b.ts,
                "bids": [[float(p), float(z)] for p, z in b.bids],
                "asks": [[float(p), float(z)] for p, z in b.asks],
            }
        out["book"] = book
    return out
