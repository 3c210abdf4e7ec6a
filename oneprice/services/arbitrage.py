"""Arbitrage use cases: scan once or on a schedule, opportunities, scan runs and deviation history."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from oneprice.arbitrage import deviations, store
from oneprice.arbitrage.alerts import AlertSink, delivery_loop, dispatch, enqueue, policy_from
from oneprice.arbitrage.detect import Candidate, Params
from oneprice.arbitrage.scan import ScanResult, load_pairs, run_scan
from oneprice.config import Settings
from oneprice.core.errors import NotFoundError
from oneprice.core.types import ZERO
from oneprice.core.venues import describe
from oneprice.db import models as m
from oneprice.db.base import now_utc
from oneprice.db.models_arbitrage import ArbOpportunity
from oneprice.ingest.base import VenueClient
from oneprice.services.container import Services

log = logging.getLogger(__name__)
SOURCES = ("live", "replay")


def params_from(s: Settings) -> Params:
    return Params(
        target_size=Decimal(s.arb_target_size),
        max_book_age_s=s.arb_max_book_age_s,
        confirmed_confidence=s.arb_confirmed_confidence,
        mismatch_loss=Decimal(str(s.arb_mismatch_loss)),
    )


def _clients(svc: Services, source: str, venues: set[str]) -> dict[str, VenueClient]:
    if source == "replay":
        return {"*": svc.client("replay")}
    out = {}
    for v in sorted(v for v in venues if describe(v).executable):
        try:
            out[v] = svc.client(v)
        except KeyError:
            log.warning("no client registered for venue %s", v)
    return out


@dataclass(frozen=True)
class ScanCandidate:
    """A candidate of this scan (opportunity or exclusion), per contract, after fees and depth."""

    match_id: int
    relation: str
    kind: str
    pair: str  # "question A <> question B"
    venue_pair: str
    markets: list[str]  # "venue:market_id" of each side
    legs: list[dict[str, Any]]  # venue, market_id, outcome, filled, avg/worst price, fee, levels, book_ts
    size: Decimal
    max_size: Decimal
    edge: Decimal | None
    profit: Decimal | None
    cost: Decimal | None
    fees: Decimal | None
    edge_at_target: Decimal | None
    ret: Decimal | None
    annualized: Decimal | None
    days: float | None
    settle_at: datetime | None
    confidence: float
    risk_adjusted_edge: Decimal | None
    book_ts: datetime | None
    book_age_s: float | None
    mid_gap: Decimal | None
    excluded_reason: str | None
    reviewed: bool
    flags: list[str]
    clean: bool


@dataclass(frozen=True)
class ScanSummary:
    run_id: int
    source: str
    status: str  # ok | partial | failed
    error: str | None
    pairs: int
    evaluated: int
    books: int
    opportunities: list[ScanCandidate]
    excluded: list[ScanCandidate]
    no_edge: int
    venue_errors: dict[str, dict[str, Any]]  # venue -> {"count": n, "errors": [messages]}
    alerts: int
    fetch_s: float
    total_s: float


@dataclass(frozen=True)
class StoredOpportunity:
    """A candidate as the latest finished scan stored it."""

    scan_run_id: int
    match_id: int
    relation: str
    kind: str
    pair: str
    venue_pair: str
    markets: list[str]
    is_opportunity: bool
    legs: list[dict[str, Any]]
    size: Decimal
    max_size: Decimal
    edge: Decimal | None
    edge_at_target: Decimal | None
    profit: Decimal | None
    fees: Decimal | None
    cost: Decimal | None
    ret: Decimal | None
    annualized: Decimal | None
    days: float | None
    settle_at: datetime | None
    confidence: float
    risk_adjusted_edge: Decimal | None
    mid_gap: Decimal | None
    flags: list[str]
    reviewed: bool
    book_ts: datetime | None
    book_age_s: float | None
    excluded_reason: str | None


@dataclass(frozen=True)
class ScanRun:
    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    pairs: int
    evaluated: int
    opportunities: int
    excluded: int
    books: int
    alerts: int
    venue_errors: dict[str, Any]
    fetch_s: float
    total_s: float
    error: str | None


@dataclass(frozen=True)
class DeviationPoint:
    ts: datetime
    scan_run_id: int
    mid_gap: Decimal | None
    executable_edge: Decimal | None
    edge_size: Decimal | None
    venue_pair: str
    category: str | None


@dataclass(frozen=True)
class DeviationGroup:
    pairs: int
    observations: int
    persistent_pairs: int
    share_persistent: float
    mean_mid_gap: float | None
    mean_exec_deviation: float | None
    share_positive_exec: float | None


@dataclass(frozen=True)
class DeviationSummary:
    gap_threshold: float
    persist_share: float
    overall: DeviationGroup
    by_venue_pair: dict[str, DeviationGroup]
    by_category: dict[str, DeviationGroup]


def candidate_row(c: Candidate) -> ScanCandidate:
    return ScanCandidate(
        match_id=c.pair.match_id,
        relation=c.pair.relation,
        kind=c.kind,
        pair=f"{c.pair.market_a.question} <> {c.pair.market_b.question}",
        venue_pair=f"{c.pair.market_a.venue}-{c.pair.market_b.venue}",
        markets=[
            f"{c.pair.market_a.venue}:{c.pair.market_a.market_id}",
            f"{c.pair.market_b.venue}:{c.pair.market_b.market_id}",
        ],
        legs=c.legs,
        size=c.size,
        max_size=c.max_size,
        edge=c.edge,
        profit=c.profit,
        cost=c.cost,
        fees=c.fees,
        edge_at_target=c.edge_at_target,
        ret=c.ret,
        annualized=c.annualized,
        days=c.days,
        settle_at=c.settle_at,
        confidence=c.confidence,
        risk_adjusted_edge=c.risk_adjusted_edge,
        book_ts=c.book_ts,
        book_age_s=c.book_age_s,
        mid_gap=c.mid_gap,
        excluded_reason=c.excluded,
        reviewed=c.reviewed,
        flags=list(c.flags),
        clean=c.clean,
    )


def _summary(run_id: int, res: ScanResult, alerts: int, error: str | None = None) -> ScanSummary:
    return ScanSummary(
        run_id=run_id,
        source=res.source,
        status="failed" if error else res.status,
        error=error,
        pairs=res.pairs,
        evaluated=len(res.candidates),
        books=res.books,
        opportunities=[candidate_row(c) for c in res.opportunities],
        excluded=[candidate_row(c) for c in res.excluded],
        no_edge=sum(1 for c in res.candidates if not c.excluded and not c.is_opportunity),
        venue_errors=res.venue_errors,
        alerts=alerts,
        fetch_s=res.fetch_s,
        total_s=res.total_s,
    )


async def scan_once_async(
    svc: Services,
    source: str = "live",
    clients: Mapping[str, VenueClient] | None = None,
    sinks: Sequence[AlertSink] | None = None,
    size: int | None = None,
    deliver: bool = True,
) -> ScanSummary:
    """One scan: refresh books of hedgeable matches, detect, persist the run, enqueue alerts (and, with
    ``deliver``, send the due ones). Never raises for a failing venue; an unexpected failure is stored
    as a failed run and reported. ``size`` overrides the target size in contracts
    (``ONEPRICE_ARB_TARGET_SIZE``)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    s = svc.settings
    engine = svc.engine
    with svc.session() as sess:
        pairs = load_pairs(sess, s.arb_min_confidence, confirmed_only=s.arb_require_confirmed)
    own = clients is None
    venues = {p.market_a.venue for p in pairs} | {p.market_b.venue for p in pairs}
    use = _clients(svc, source, venues) if clients is None else clients
    res = ScanResult(source, now_utc(), pairs=len(pairs))
    params = params_from(s) if not size else replace(params_from(s), target_size=Decimal(size))
    error = None
    try:
        res = await run_scan(
            pairs, use, params, source, s.arb_concurrency_per_venue, breaker=s.arb_venue_breaker
        )
    except Exception as exc:
        log.exception("scan failed")
        error = f"{type(exc).__name__}: {exc}"
    finally:
        if own:
            for c in use.values():
                await c.aclose()
    run_id, ids = store.save_run(engine, res, error)
    policy = policy_from(s)
    use_sinks = svc.alert_sinks() if sinks is None else sinks
    if deliver:
        alerts = await dispatch(engine, run_id, res.candidates, ids, use_sinks, policy)
    else:  # a delivery loop beside the scan loop sends them
        alerts = enqueue(engine, run_id, res.candidates, ids, [sk.name for sk in use_sinks], policy)
    if alerts:
        store.set_alert_count(engine, run_id, alerts)
    return _summary(run_id, res, alerts, error)


def scan_once(
    svc: Services,
    source: str = "live",
    clients: Mapping[str, VenueClient] | None = None,
    sinks: Sequence[AlertSink] | None = None,
    size: int | None = None,
) -> ScanSummary:
    return asyncio.run(scan_once_async(svc, source, clients, sinks, size))


async def scan_forever(
    svc: Services,
    every_s: float,
    source: str = "live",
    max_runs: int | None = None,
    on_result: Callable[[ScanSummary], None] | None = None,
    clients: Mapping[str, VenueClient] | None = None,
    sinks: Sequence[AlertSink] | None = None,
    size: int | None = None,
) -> int:
    """Scan every ``every_s`` seconds (start to start) until cancelled or ``max_runs``; returns runs done.

    Alerts are delivered by a task beside the scans, so a slow or failing sink never delays a scan."""
    loop = asyncio.get_running_loop()
    use_sinks = svc.alert_sinks() if sinks is None else sinks
    courier = asyncio.create_task(delivery_loop(svc.engine, use_sinks, policy_from(svc.settings)))
    done = 0
    try:
        while max_runs is None or done < max_runs:
            started = loop.time()
            result = await scan_once_async(svc, source, clients, use_sinks, size, deliver=False)
            done += 1
            if on_result is not None:
                on_result(result)
            if max_runs is not None and done >= max_runs:
                break
            await asyncio.sleep(max(0.0, every_s - (loop.time() - started)))
    finally:
        courier.cancel()
        await asyncio.gather(courier, return_exceptions=True)
    return done


def latest_opportunities(
    svc: Services, kind: str | None = None, include_excluded: bool = True
) -> list[StoredOpportunity]:
    """Candidates of the latest finished scan run: opportunities first (best edge), then exclusions."""
    engine = svc.engine
    run_id = store.latest_run_id(engine)
    if run_id is None:
        return []
    a, b = aliased(m.Market), aliased(m.Market)
    q = (
        select(ArbOpportunity, a.question, b.question, a.venue, b.venue, a.external_id, b.external_id)
        .join(m.Match, m.Match.id == ArbOpportunity.match_id)
        .join(a, a.id == m.Match.market_a_id)
        .join(b, b.id == m.Match.market_b_id)
        .where(ArbOpportunity.scan_run_id == run_id)
    )
    if kind:
        q = q.where(ArbOpportunity.kind == kind)
    if not include_excluded:
        q = q.where(ArbOpportunity.is_opportunity.is_(True))
    out: list[StoredOpportunity] = []
    with svc.session() as s:
        for o, qa, qb, va, vb, ea, eb in s.execute(q):
            out.append(
                StoredOpportunity(
                    scan_run_id=run_id,
                    match_id=o.match_id,
                    relation=o.relation,
                    kind=o.kind,
                    pair=f"{qa} <> {qb}",
                    venue_pair=o.venue_pair,
                    markets=[f"{va}:{ea}", f"{vb}:{eb}"],
                    is_opportunity=o.is_opportunity,
                    legs=o.legs,
                    size=o.size,
                    max_size=o.max_size,
                    edge=o.edge,
                    edge_at_target=o.edge_at_target,
                    profit=o.profit,
                    fees=o.fees,
                    cost=o.cost,
                    ret=o.ret,
                    annualized=o.annualized,
                    days=o.days,
                    settle_at=o.settle_at,
                    confidence=o.confidence,
                    risk_adjusted_edge=o.risk_adjusted_edge,
                    mid_gap=o.mid_gap,
                    flags=list(o.flags or []),
                    reviewed="unreviewed" not in (o.flags or []),
                    book_ts=o.book_ts,
                    book_age_s=o.book_age_s,
                    excluded_reason=o.excluded_reason,
                )
            )
    out.sort(key=lambda r: (not r.is_opportunity, r.excluded_reason is not None, -(r.edge or ZERO)))
    return out


def deviation_history(svc: Services, match_id: int) -> list[DeviationPoint]:
    """The pair's points, oldest first; ``NotFoundError`` for a match id that does not exist."""
    with svc.engine.connect() as conn:
        if conn.execute(select(m.Match.id).where(m.Match.id == match_id)).first() is None:
            raise NotFoundError(f"no match with id {match_id} (see: oneprice align list)")
    return [DeviationPoint(**r) for r in deviations.history(svc.engine, match_id)]


def deviation_summary(svc: Services) -> DeviationSummary:
    s = svc.settings
    d = deviations.summary(svc.engine, s.arb_persist_gap, s.arb_persist_share)
    return DeviationSummary(
        gap_threshold=d["gap_threshold"],
        persist_share=d["persist_share"],
        overall=DeviationGroup(**d["overall"]),
        by_venue_pair={k: DeviationGroup(**g) for k, g in d["by_venue_pair"].items()},
        by_category={k: DeviationGroup(**g) for k, g in d["by_category"].items()},
    )


def list_scan_runs(svc: Services, limit: int = 20) -> list[ScanRun]:
    return [ScanRun(**r) for r in store.list_runs(svc.engine, limit)]
