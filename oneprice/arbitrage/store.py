"""Persisting scan runs, their candidates and deviation observations, in one transaction per run."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from oneprice.arbitrage.detect import Candidate
from oneprice.arbitrage.scan import ScanResult
from oneprice.core import OrderBook, Quote
from oneprice.core.venues import describe
from oneprice.db import session_scope
from oneprice.db.base import now_utc
from oneprice.db.models_arbitrage import ArbDeviation, ArbOpportunity, ArbScanRun
from oneprice.ingest.store import write_books, write_quotes

Q = Decimal("0.00000001")


def q8(x: Decimal | None) -> Decimal | None:
    return None if x is None else x.quantize(Q)


def venue_pair(c: Candidate) -> str:
    return "-".join(sorted((c.pair.market_a.venue, c.pair.market_b.venue)))


def series(c: Candidate) -> str:
    """Fallback category: the series (event ticker prefix, on Kalshi) of either leg."""
    for mk in (c.pair.market_a, c.pair.market_b):
        field = describe(mk.venue).series_field
        ticker = mk.extra.get(field) if field else None
        if ticker:
            return f"{mk.venue}:{str(ticker).split('-', 1)[0]}"
    return ""


def _opportunity_row(run_id: int, c: Candidate) -> dict[str, Any]:
    return {
        "scan_run_id": run_id,
        "match_id": c.pair.match_id,
        "kind": c.kind,
        "relation": c.pair.relation,
        "venue_pair": venue_pair(c),
        "is_opportunity": c.is_opportunity,
        "excluded_reason": c.excluded,
        "legs": c.legs,
        "size": c.size,
        "max_size": c.max_size,
        "edge": q8(c.edge),
        "edge_at_target": q8(c.edge_at_target),
        "profit": c.profit,
        "cost": c.cost,
        "fees": c.fees,
        "ret": q8(c.ret),
        "annualized": q8(c.annualized),
        "days": c.days,
        "settle_at": c.settle_at,
        "confidence": c.confidence,
        "risk_adjusted_edge": q8(c.risk_adjusted_edge),
        "mid_gap": q8(c.mid_gap),
        "flags": list(c.flags),
        "book_ts": c.book_ts,
        "book_age_s": c.book_age_s,
    }


def _deviation_row(run_id: int, c: Candidate, ts: datetime) -> dict[str, Any]:
    cat = c.pair.market_a.category or c.pair.market_b.category or series(c) or "uncategorized"
    return {
        "match_id": c.pair.match_id,
        "scan_run_id": run_id,
        "ts": c.book_ts or ts,
        "mid_gap": q8(c.mid_gap),
        "executable_edge": q8(c.edge_at_target),
        "edge_size": c.size_at_target,
        "venue_pair": venue_pair(c),
        "category": cat[:128],
    }


def top_quote(b: OrderBook) -> Quote:
    bid, ask = (b.bids[0] if b.bids else None), (b.asks[0] if b.asks else None)
    return Quote(
        b.venue,
        b.market_id,
        b.outcome,
        b.ts,
        bid.price if bid else None,
        ask.price if ask else None,
        None,
        bid.size if bid else None,
        ask.size if ask else None,
    )


def save_run(engine: Engine, res: ScanResult, error: str | None = None) -> tuple[int, dict[int, int]]:
    """Write the run, every candidate, the deviation observations and the refreshed books and top-of-book
    quotes (through ``oneprice.ingest.store``); return the run id and a map from each candidate's
    ``id()`` to its row id (for alerts). One transaction: a crash leaves nothing half written."""
    with session_scope(engine) as s:
        if res.fetched:
            write_books(s, res.fetched)
            write_quotes(s, [top_quote(b) for b in res.fetched])
        run = ArbScanRun(
            source=res.source,
            started_at=res.started_at,
            finished_at=res.finished_at or now_utc(),
            status="failed" if error else res.status,
            pairs=res.pairs,
            evaluated=len(res.candidates),
            opportunities=len(res.opportunities),
            excluded=len(res.excluded),
            books=res.books,
            venue_errors=res.venue_errors,
            fetch_s=round(res.fetch_s, 4),
            total_s=round(res.total_s, 4),
            error=error,
        )
        s.add(run)
        s.flush()
        rows = [(c, ArbOpportunity(**_opportunity_row(run.id, c))) for c in res.candidates]
        s.add_all([r for _, r in rows])
        s.add_all(
            [
                ArbDeviation(**_deviation_row(run.id, c, run.started_at))
                for c in res.candidates
                if c.excluded is None and (c.mid_gap is not None or c.edge_at_target is not None)
            ]
        )
        s.flush()  # one batched INSERT per table (RETURNING ids on SQLite and PostgreSQL)
        return run.id, {id(c): r.id for c, r in rows}


def set_alert_count(engine: Engine, run_id: int, n: int) -> None:
    with session_scope(engine) as s:
        run = s.get(ArbScanRun, run_id)
        if run is not None:
            run.alerts = n


def run_dict(r: ArbScanRun) -> dict[str, Any]:
    return {
        "id": r.id,
        "source": r.source,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "status": r.status,
        "pairs": r.pairs,
        "evaluated": r.evaluated,
        "opportunities": r.opportunities,
        "excluded": r.excluded,
        "books": r.books,
        "alerts": r.alerts,
        "venue_errors": r.venue_errors,
        "fetch_s": r.fetch_s,
        "total_s": r.total_s,
        "error": r.error,
    }


def list_runs(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    with session_scope(engine) as s:
        runs = s.scalars(select(ArbScanRun).order_by(ArbScanRun.id.desc()).limit(limit)).all()
        return [run_dict(r) for r in runs]


def latest_run_id(engine: Engine) -> int | None:
    with session_scope(engine) as s:
        return s.scalar(
            select(ArbScanRun.id)
            .where(ArbScanRun.finished_at.is_not(None))
            .order_by(ArbScanRun.id.desc())
            .limit(1)
        )
