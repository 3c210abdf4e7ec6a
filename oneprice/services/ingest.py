"""Ingest use case: pull a source (venue, exchange or the bundled snapshot) into the database.

Each page is written in ONE transaction together with the run's counters and checkpoint, so a run killed
midway leaves no half-written page; the next run of the same source and parameters resumes from the
checkpoint. Re-ingesting unchanged data updates nothing. Malformed records are counted by reason in
``ingest_runs.rejects`` and never stop a run; a failing source is recorded as a failed run.
The dashboard's read functions (overview, search, market detail, runs) live in ``ingest_queries``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from oneprice.core import ConfigError, OnePriceError
from oneprice.db import IngestRun, session_scope
from oneprice.db.base import now_utc
from oneprice.ingest import VENUES, snapshot
from oneprice.ingest.base import Capability, Page, VenueClient
from oneprice.ingest.store import WriteCounts, write_page
from oneprice.services.container import Services
from oneprice.services.ingest_queries import list_ingest_runs, market_detail, overview, search_markets

__all__ = [
    "IngestSummary",
    "ingest",
    "ingest_async",
    "list_ingest_runs",
    "market_detail",
    "overview",
    "search_markets",
    "sources",
    "validate_source",
]

log = logging.getLogger(__name__)
Progress = Callable[[int, int | None, str], None]  # (items done in this page, total if known, stage)
Stream = tuple[str, Callable[[str | None], AsyncIterator[Page[Any]]]]


@dataclass
class IngestSummary:
    run_id: int
    source: str
    status: str
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    resumed_from: int | None = None
    tables: dict[str, dict[str, int]] = field(default_factory=dict)


def sources() -> list[str]:
    """The sources ``ingest`` accepts (``ccxt`` takes an exchange: ``ccxt:binance``)."""
    import oneprice.ingest.venues  # noqa: F401  (registers the built-in venues)

    return sorted(f"{n}:<exchange>" if n == "ccxt" else n for n in VENUES)


def validate_source(source: str) -> str:
    """``source`` when it names a registered client (and an exchange for ccxt); else a ConfigError."""
    import oneprice.ingest.venues  # noqa: F401

    base, sep, arg = source.partition(":")
    ok = base in VENUES and (bool(arg) if base == "ccxt" else not sep)
    if base == "ccxt" and ok:
        import ccxt

        ok = arg in ccxt.exchanges
    if not ok:
        raise ConfigError(f"unknown source {source!r}; choose one of: {', '.join(sources())}")
    return source


def _streams(
    source: str,
    client: VenueClient,
    limit: int | None,
    symbols: list[str] | None,
    timeframe: str | None,
    since: datetime,
    until: datetime | None,
) -> list[Stream]:
    def bars(sym: str, tf: str, start: datetime) -> Callable[[str | None], AsyncIterator[Page[Any]]]:
        def run(cursor: str | None) -> AsyncIterator[Page[Any]]:
            s = datetime.fromtimestamp(int(cursor) / 1000, UTC) if cursor else start
            return client.ohlcv(sym, tf, s, until)

        return run

    if source == "replay":
        from oneprice.ingest.venues.replay import ReplayClient

        assert isinstance(client, ReplayClient)
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        out: list[Stream] = [("markets", lambda c: client.markets(cursor=c, limit=limit))]
        out += [
            (f"bars:{sym}:{tf}", bars(sym, tf, epoch))
            for _ex, sym, tf in client.series()
            if (not symbols or sym in symbols) and (not timeframe or tf == timeframe)
        ]
        return out
    if client.supports(Capability.OHLCV):
        tf = timeframe or "1h"
        return [(f"bars:{sym}:{tf}", bars(sym, tf, since)) for sym in symbols or ["BTC/USDT"]]
    if client.supports(Capability.EVENTS):
        return [("events", lambda c: client.events(cursor=c, limit=limit))]
    return [("markets", lambda c: client.markets(cursor=c, limit=limit))]


def _owner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _alive(owner: Any) -> bool:
    """Whether the process that owns a "running" run still runs (checked on this host only)."""
    if not isinstance(owner, dict) or owner.get("host") != socket.gethostname():
        return False
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _last_run(session: Any, source: str) -> IngestRun | None:
    """The latest run of ``source``, ignoring runs refused because another one was still running."""
    q = select(IngestRun).where(IngestRun.source == source).order_by(IngestRun.id.desc()).limit(50)
    return next((r for r in session.scalars(q) if not (r.checkpoint or {}).get("busy")), None)


def _resumable(last: IngestRun | None, params: dict[str, Any]) -> IngestRun | None:
    if last is None or last.status not in ("running", "failed"):
        return None
    cp = last.checkpoint or {}
    return last if cp.get("params") == params and cp.get("stream") is not None else None


async def ingest_async(
    svc: Services,
    source: str,
    limit: int | None = None,
    progress: Progress | None = None,
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    client: VenueClient | None = None,
    **overrides: Any,
) -> IngestSummary:
    """Async form of :func:`ingest` (for callers already inside an event loop)."""
    if client is None:
        validate_source(source)
    engine = svc.engine
    symbols = [s.strip() for s in symbol.split(",") if s.strip()] if symbol else None
    start = since or (datetime.now(UTC) - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    params = {
        "limit": limit,
        "symbols": symbols,
        "timeframe": timeframe,
        "since": start.isoformat() if source.startswith("ccxt") else None,
        "until": until.isoformat() if until else None,
    }
    with session_scope(engine) as s:
        last = _last_run(s, source)
        if last is not None and last.status == "running" and _alive((last.checkpoint or {}).get("owner")):
            msg = f"run {last.id} of {source} is still running (pid {last.checkpoint['owner']['pid']})"
            busy = IngestRun(
                source=source, status="failed", errors=[msg], finished_at=now_utc(), checkpoint={"busy": True}
            )
            s.add(busy)
            s.flush()
            log.error("ingest %s: %s", source, msg)
            return IngestSummary(busy.id, source, "failed", errors=[msg])
        old = _resumable(last, params)
        stream_i, cursor = (old.checkpoint["stream"], old.checkpoint.get("cursor")) if old else (0, None)
        prior: int = old.checkpoint.get("done", 0) if old else 0  # items already written by resumed runs
        cp0 = {"params": params, "stream": stream_i, "cursor": cursor, "owner": _owner()}
        run = IngestRun(source=source, checkpoint=cp0)
        s.add(run)
        s.flush()
        if old is not None:
            old.status = "failed"
            old.errors = [*(old.errors or []), f"interrupted; resumed by run {run.id}"]
            old.finished_at = old.finished_at or now_utc()
            run.checkpoint = {**run.checkpoint, "resumed_from": old.id}
            log.info("ingest %s: resuming run %s at stream %s cursor %s", source, old.id, stream_i, cursor)
        summary = IngestSummary(run.id, source, "running", resumed_from=old.id if old else None)
    rejects: Counter[str] = Counter()
    total = snapshot.manifest()["files"]["markets.jsonl.gz"]["rows"] if source == "replay" else None
    if total is not None and limit is not None:
        total = min(total, limit)
    own = client is None
    known: set[str] = set()
    try:
        client = client or svc.client(source, **overrides)
        # replay offsets are absolute; a venue's limit counts from where the resumed run stopped
        left = limit if limit is None or source == "replay" else max(0, limit - prior)
        streams = _streams(source, client, left, symbols, timeframe, start, until)
        for i in range(stream_i, len(streams)):
            name, open_stream = streams[i]
            async for page in open_stream(cursor if i == stream_i else None):
                with session_scope(engine) as s:
                    wc: WriteCounts = write_page(s, page, known)
                    rejects.update(e.reason for e in page.rejects)
                    if wc.orphans:
                        rejects["unknown_market"] += wc.orphans
                    summary.fetched += wc.fetched
                    summary.inserted += wc.counts.inserted
                    summary.updated += wc.counts.updated
                    for t, c in wc.by_table.items():
                        agg = summary.tables.setdefault(t, {"inserted": 0, "updated": 0, "unchanged": 0})
                        agg["inserted"] += c.inserted
                        agg["updated"] += c.updated
                        agg["unchanged"] += c.unchanged
                    summary.rejects = dict(rejects)
                    summary.rejected = sum(rejects.values())
                    done = page.cursor is None
                    cp = {
                        "params": params,
                        "stream": i + 1 if done else i,
                        "cursor": None if done else page.cursor,
                        "stage": name,
                        "tables": summary.tables,
                        "owner": _owner(),
                        "done": prior + summary.fetched,
                    }
                    if summary.resumed_from:
                        cp["resumed_from"] = summary.resumed_from
                    s.execute(
                        update(IngestRun)
                        .where(IngestRun.id == summary.run_id)
                        .values(
                            fetched=summary.fetched,
                            inserted=summary.inserted,
                            updated=summary.updated,
                            rejected=summary.rejected,
                            rejects=summary.rejects,
                            checkpoint=cp,
                        )
                    )
                if progress:
                    progress(wc.fetched, total if name == "markets" else None, name)
        summary.status = "ok"
    except Exception as exc:  # a failing source is a failed run, never a crash of the caller
        summary.status = "failed"
        summary.errors.append(f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(exc, OnePriceError | OSError):
            log.error("ingest %s failed: %s", source, summary.errors[-1])
        else:
            log.exception("ingest %s failed unexpectedly", source)
    except BaseException as exc:  # interrupted: record it, keep the checkpoint, re-raise
        summary.status = "failed"
        summary.errors.append(f"interrupted: {type(exc).__name__}")
        _finish(engine, summary)
        raise
    finally:
        if own and client is not None:
            await client.aclose()
    _finish(engine, summary)
    return summary


def _finish(engine: Any, summary: IngestSummary) -> None:
    with session_scope(engine) as s:
        s.execute(
            update(IngestRun)
            .where(IngestRun.id == summary.run_id)
            .values(status=summary.status, errors=summary.errors, finished_at=now_utc())
        )


def ingest(
    svc: Services,
    source: str,
    limit: int | None = None,
    progress: Progress | None = None,
    **kwargs: Any,
) -> IngestSummary:
    """Ingest ``source`` ("kalshi", "polymarket", "manifold", "predictit", "ccxt:<exchange>", "replay").

    ``kwargs``: ``symbol`` (comma-separated ccxt symbols), ``timeframe``, ``since``, ``until`` for ccxt;
    ``client`` (a ready ``VenueClient``) or client overrides such as ``base_url=``, ``rate_per_s=``.
    """
    return asyncio.run(ingest_async(svc, source, limit, progress, **kwargs))
