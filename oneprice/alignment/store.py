"""Persistence of matches under the review workflow, on the shared ``matches`` table.

Invariants: a confirmed or rejected pair (in either orientation) is never touched by a run; a
rejected pair is therefore never proposed again; proposals the current model no longer makes are
withdrawn (status ``withdrawn``) only while still ``proposed``, and proposed again when the model
makes them again. A match row is never deleted, so the opportunities, deviations and alerts of past
scans keep their match. Pairs are stored with A = the market whose
(venue, external id) sorts first, so every pair has one orientation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from oneprice.alignment.labels import LabeledPair, event_of
from oneprice.alignment.relations import OVERLAPPING, check, outcome_map
from oneprice.core.errors import NotFoundError
from oneprice.core.types import Market
from oneprice.db.base import now_utc
from oneprice.db.mapping import to_market as row_to_market
from oneprice.db.models import Market as MarketRow
from oneprice.db.models import Match

DECIDED = ("confirmed", "rejected")
WITHDRAWN = "withdrawn"
INACTIVE = ("settled", "closed", "resolved", "finalized")


@dataclass(frozen=True)
class Proposal:
    a_id: int
    b_id: int
    relation: str
    confidence: float
    explanation: dict[str, Any]


@dataclass
class SaveCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    kept_decided: int = 0
    by_relation: dict[str, int] = field(default_factory=dict)


def to_market(row: MarketRow) -> Market:
    m = row_to_market(row)
    return replace(m, extra={}, event_id=m.event_id or event_of(row.venue, row.external_id))


def load_markets(session: Session) -> list[tuple[int, Market]]:
    """Every binary market still trading, with its database id."""
    rows = session.scalars(select(MarketRow).where(MarketRow.status.not_in(INACTIVE)).order_by(MarketRow.id))
    return [(r.id, to_market(r)) for r in rows if (r.question or "").strip()]


def save(
    session: Session, proposals: Iterable[Proposal], method: str, version: str, scope: set[int]
) -> SaveCounts:
    """Write this run's proposals; withdraw stale proposals between markets in ``scope``."""
    counts = SaveCounts()
    existing: dict[tuple[int, int], Match] = {}
    for m in session.scalars(select(Match)):
        existing[(m.market_a_id, m.market_b_id)] = m
    seen: set[tuple[int, int]] = set()
    now = now_utc()
    for p in proposals:
        key = (p.a_id, p.b_id)
        row = existing.get(key) or existing.get((p.b_id, p.a_id))
        seen.add(key)
        seen.add((p.b_id, p.a_id))
        if row is not None and row.status in DECIDED:
            counts.kept_decided += 1
            continue
        counts.by_relation[p.relation] = counts.by_relation.get(p.relation, 0) + 1
        values = {
            "relation": check(p.relation),
            "outcome_map": outcome_map(p.relation),
            "confidence": round(float(p.confidence), 6),
            "explanation": p.explanation,
            "method": method,
            "model_version": version,
        }
        if row is None:
            session.add(Match(market_a_id=p.a_id, market_b_id=p.b_id, status="proposed", **values))
            counts.inserted += 1
        elif row.status == "proposed" and all(getattr(row, k) == v for k, v in values.items()):
            counts.unchanged += 1
        else:
            for k, v in values.items():
                setattr(row, k, v)
            row.status = "proposed"  # a withdrawn proposal made again
            row.updated_at = now
            counts.updated += 1
    stale = [
        m.id
        for k, m in existing.items()
        if m.status == "proposed" and k not in seen and m.market_a_id in scope and m.market_b_id in scope
    ]
    for start in range(0, len(stale), 500):
        part = stale[start : start + 500]
        session.execute(update(Match).where(Match.id.in_(part)).values(status=WITHDRAWN, updated_at=now))
    counts.withdrawn = len(stale)
    session.flush()
    return counts


def _market_dict(r: MarketRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "venue": r.venue,
        "external_id": r.external_id,
        "question": r.question,
        "rules": r.rules,
        "close_time": r.close_time.isoformat() if isinstance(r.close_time, datetime) else None,
    }


def match_dict(m: Match, a: MarketRow, b: MarketRow) -> dict[str, Any]:
    return {
        "id": m.id,
        "relation": m.relation,
        "status": m.status,
        "confidence": m.confidence,
        "method": m.method,
        "model_version": m.model_version,
        "explanation": m.explanation,
        "outcome_map": m.outcome_map,
        "decided_at": m.decided_at.isoformat() if m.decided_at else None,
        "decided_by": m.decided_by,
        "market_a": _market_dict(a),
        "market_b": _market_dict(b),
    }


def list_matches(
    session: Session,
    status: str | None = None,
    min_confidence: float = 0.0,
    relations: Iterable[str] | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    q = select(Match).where(Match.confidence >= min_confidence)
    if status:
        q = q.where(Match.status == status)
    if relations:
        q = q.where(Match.relation.in_(list(relations)))
    rows = list(session.scalars(q.order_by(Match.confidence.desc(), Match.id).limit(limit)))
    ids = {i for m in rows for i in (m.market_a_id, m.market_b_id)}
    markets = (
        {r.id: r for r in session.scalars(select(MarketRow).where(MarketRow.id.in_(ids)))} if ids else {}
    )
    return [match_dict(m, markets[m.market_a_id], markets[m.market_b_id]) for m in rows]


def decide(session: Session, match_id: int, decision: str, by: str = "user") -> None:
    if decision not in DECIDED:
        raise ValueError(f"decision must be 'confirmed' or 'rejected', not {decision!r}")
    m = session.get(Match, match_id)
    if m is None:
        raise NotFoundError(f"no match with id {match_id}")
    m.status = decision
    m.decided_at = now_utc()
    m.decided_by = by
    m.updated_at = m.decided_at


def review_labels(session: Session) -> list[LabeledPair]:
    """Human decisions as training pairs: confirmed keeps its relation, rejected becomes 'overlapping'."""
    rows = list(session.scalars(select(Match).where(Match.status.in_(DECIDED))))
    ids = {i for m in rows for i in (m.market_a_id, m.market_b_id)}
    if not ids:
        return []
    markets = {r.id: to_market(r) for r in session.scalars(select(MarketRow).where(MarketRow.id.in_(ids)))}
    out = []
    for m in rows:
        a, b = markets[m.market_a_id], markets[m.market_b_id]
        rel = m.relation if m.status == "confirmed" else OVERLAPPING
        out.append(LabeledPair(a, b, rel, f"db:{m.id}", "review"))
    return out


def decided_pairs(session: Session) -> set[tuple[int, int]]:
    """Market-id pairs (both orientations) that a human has decided."""
    out: set[tuple[int, int]] = set()
    q = select(Match.market_a_id, Match.market_b_id).where(or_(*[Match.status == s for s in DECIDED]))
    for a, b in session.execute(q):
        out.update({(a, b), (b, a)})
    return out
