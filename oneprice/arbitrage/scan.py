"""One scan cycle: load hedgeable matches, refresh their books concurrently, detect, persist.

Books come from ``oneprice.ingest`` clients (``order_books(market)``), one client per venue, or one
client under ``"*"`` serving every venue (the replay client). Requests run concurrently across
venues with at most ``concurrency`` in flight per venue; a failing venue is recorded in the run's
``venue_errors`` and the other venues go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from oneprice.arbitrage.detect import RELATIONS, Candidate, PairSpec, Params, evaluate
from oneprice.core import Market, OrderBook, Outcome, TransientError
from oneprice.core.venues import describe
from oneprice.db import models as m
from oneprice.db.base import now_utc
from oneprice.db.mapping import to_market
from oneprice.ingest.base import VenueClient

log = logging.getLogger(__name__)
Books = dict[str, OrderBook]


@dataclass
class ScanResult:
    source: str
    started_at: datetime
    pairs: int = 0
    candidates: list[Candidate] = field(default_factory=list)
    venue_errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    books: int = 0
    fetched: list[OrderBook] = field(default_factory=list)  # every book refreshed, for storage
    fetch_s: float = 0.0
    total_s: float = 0.0
    finished_at: datetime | None = None

    @property
    def status(self) -> str:
        if not self.venue_errors:
            return "ok"
        return "failed" if self.books == 0 and self.pairs else "partial"

    @property
    def opportunities(self) -> list[Candidate]:
        return sorted((c for c in self.candidates if c.is_opportunity), key=lambda c: -(c.edge or 0))

    @property
    def excluded(self) -> list[Candidate]:
        return [c for c in self.candidates if c.excluded]


def _market(row: m.Market, outcomes: list[Outcome]) -> Market:
    return to_market(row, outcomes)


def load_pairs(
    session: Session, min_confidence: float, match_ids: list[int] | None = None, confirmed_only: bool = False
) -> list[PairSpec]:
    """Confirmed matches, and proposed ones at or above ``min_confidence`` (none when
    ``confirmed_only``: ``ONEPRICE_ARB_REQUIRE_CONFIRMED``), of a priceable relation."""
    a, b = aliased(m.Market), aliased(m.Market)
    q = (
        select(m.Match, a, b)
        .join(a, a.id == m.Match.market_a_id)
        .join(b, b.id == m.Match.market_b_id)
        .where(m.Match.relation.in_(RELATIONS))
        .where(
            or_(
                m.Match.status == "confirmed",
                and_(m.Match.status == "proposed", m.Match.confidence >= min_confidence),
            )
        )
        .order_by(m.Match.id)
    )
    if match_ids is not None:
        q = q.where(m.Match.id.in_(match_ids))
    if confirmed_only:
        q = q.where(m.Match.status == "confirmed")
    rows = session.execute(q).all()
    ids = {r[1].id for r in rows} | {r[2].id for r in rows}
    outs: dict[int, list[Outcome]] = defaultdict(list)
    for o in session.scalars(select(m.Outcome).where(m.Outcome.market_id.in_(ids)).order_by(m.Outcome.id)):
        outs[o.market_id].append(Outcome(o.name, o.token_id, o.price))
    return [
        PairSpec(
            mt.id,
            mt.relation,
            dict(mt.outcome_map or {}),
            mt.status,
            float(mt.confidence),
            _market(ra, outs[ra.id]),
            _market(rb, outs[rb.id]),
            ra.id,
            rb.id,
        )
        for mt, ra, rb in rows
    ]


async def fetch_books(
    markets: Mapping[int, Market],
    clients: Mapping[str, VenueClient],
    concurrency: int,
    total_limit: int | None = None,
    breaker: int = 5,
) -> tuple[dict[int, Books], dict[str, dict[str, Any]]]:
    """Books per market id (outcome -> book) and errors per venue (count and first messages).

    At most ``concurrency`` requests per venue are in flight, and ``total_limit`` in all when given
    (``total_limit=1`` fetches one market at a time: the sequential baseline of ``bench/scan.py``).
    After ``breaker`` consecutive transient failures (each already retried by the client) a venue is
    taken as down for this scan: its remaining markets are skipped and counted, not waited for.
    """
    streak: dict[str, int] = defaultdict(int)
    sems: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(max(concurrency, 1)))
    total = asyncio.Semaphore(total_limit) if total_limit else None
    errors: dict[str, dict[str, Any]] = {}

    def fail(venue: str, msg: str) -> None:
        e = errors.setdefault(venue, {"count": 0, "errors": []})
        e["count"] += 1
        if len(e["errors"]) < 5:
            e["errors"].append(msg[:300])

    async def one(mid: int, mk: Market) -> tuple[int, Books | None]:
        client = clients.get(mk.venue) or clients.get("*")
        if client is None:
            fail(mk.venue, f"no client for venue {mk.venue}")
            return mid, None
        async with sems[mk.venue]:
            if breaker and streak[mk.venue] >= breaker:
                fail(mk.venue, f"{mk.market_id}: skipped, venue down after {breaker} consecutive failures")
                return mid, None
            try:
                if total is None:
                    books = await client.order_books(mk)
                else:
                    async with total:
                        books = await client.order_books(mk)
            except Exception as exc:  # a failing venue is reported; the others go on
                if isinstance(exc, TransientError | OSError):
                    streak[mk.venue] += 1
                fail(mk.venue, f"{mk.market_id}: {type(exc).__name__}: {exc}")
                return mid, None
            streak[mk.venue] = 0
        return mid, {
            b.outcome.capitalize() if b.outcome.lower() in ("yes", "no") else b.outcome: b for b in books
        }

    results = await asyncio.gather(*(one(mid, mk) for mid, mk in markets.items()))
    return {mid: bk for mid, bk in results if bk is not None}, errors


def _as_of(source: str, *books: Books | None) -> datetime:
    """Live: now. Replay: the clock of the recording, i.e. the newest book of the pair."""
    ts = [b.ts for bs in books if bs for b in bs.values()]
    return max(ts) if source == "replay" and ts else now_utc()


async def run_scan(
    pairs: list[PairSpec],
    clients: Mapping[str, VenueClient],
    params: Params,
    source: str = "live",
    concurrency: int = 8,
    total_limit: int | None = None,
    breaker: int = 5,
) -> ScanResult:
    """Fetch the books of every market of ``pairs`` and evaluate each pair."""
    t0 = time.perf_counter()
    res = ScanResult(source, now_utc(), pairs=len(pairs))
    markets: dict[int, Market] = {}
    for p in pairs:
        for mid, mk in ((p.a_id, p.market_a), (p.b_id, p.market_b)):
            if mk.executable and describe(mk.venue).executable:  # play money is excluded without a fetch
                markets[mid] = mk
    books, res.venue_errors = await fetch_books(markets, clients, concurrency, total_limit, breaker)
    res.books, res.fetch_s = len(books), time.perf_counter() - t0
    res.fetched = [b for bs in books.values() for b in bs.values()]
    for p in pairs:
        ba, bb = books.get(p.a_id), books.get(p.b_id)
        cand = evaluate(p, ba, bb, _as_of(source, ba, bb), params)
        if cand is not None:
            res.candidates.append(cand)
    res.finished_at = now_utc()
    res.total_s = time.perf_counter() - t0
    return res


def dec(x: Decimal | None) -> Decimal | None:
    return None if x is None else x.quantize(Decimal("0.00000001"))
