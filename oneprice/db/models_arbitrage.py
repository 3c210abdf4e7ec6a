"""Arbitrage tables: scan runs, their candidates (opportunities and exclusions), alerts, deviations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oneprice.db.base import Base, Size, now_utc
from oneprice.db.models import BigId

Edge = Numeric(18, 8)  # per-contract edges and returns, may be negative
Money = Numeric(20, 6)


class ArbScanRun(Base):
    __tablename__ = "arb_scan_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # live | replay
    started_at: Mapped[datetime] = mapped_column(default=now_utc, index=True)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|ok|partial|failed
    pairs: Mapped[int] = mapped_column(default=0)  # matched pairs considered
    evaluated: Mapped[int] = mapped_column(default=0)
    opportunities: Mapped[int] = mapped_column(default=0)
    excluded: Mapped[int] = mapped_column(default=0)
    books: Mapped[int] = mapped_column(default=0)  # markets whose books were fetched
    alerts: Mapped[int] = mapped_column(default=0)
    venue_errors: Mapped[dict[str, Any]] = mapped_column(default=dict)  # venue -> [messages]
    fetch_s: Mapped[float] = mapped_column(default=0.0)
    total_s: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str | None] = mapped_column(Text)


class ArbOpportunity(Base):
    """One evaluated candidate of a scan: an opportunity, a priced non-opportunity, or an exclusion."""

    __tablename__ = "arb_opportunities"
    __table_args__ = (Index("ix_arb_opportunities_match_run", "match_id", "scan_run_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scan_run_id: Mapped[int] = mapped_column(ForeignKey("arb_scan_runs.id", ondelete="CASCADE"), index=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # equivalence | bound
    relation: Mapped[str] = mapped_column(String(32))
    venue_pair: Mapped[str] = mapped_column(String(64))
    is_opportunity: Mapped[bool] = mapped_column(default=False)
    excluded_reason: Mapped[str | None] = mapped_column(Text)
    legs: Mapped[list[Any]] = mapped_column(default=list)  # venue, market_id, outcome, prices, fee, book_ts
    size: Mapped[Decimal] = mapped_column(Size, default=0)
    max_size: Mapped[Decimal] = mapped_column(Size, default=0)
    edge: Mapped[Decimal | None] = mapped_column(Edge)
    edge_at_target: Mapped[Decimal | None] = mapped_column(Edge)
    profit: Mapped[Decimal | None] = mapped_column(Money)
    cost: Mapped[Decimal | None] = mapped_column(Money)
    fees: Mapped[Decimal | None] = mapped_column(Money)
    ret: Mapped[Decimal | None] = mapped_column(Edge)
    annualized: Mapped[Decimal | None] = mapped_column(Edge)
    days: Mapped[float | None]
    settle_at: Mapped[datetime | None]
    confidence: Mapped[float] = mapped_column(default=0.0)
    risk_adjusted_edge: Mapped[Decimal | None] = mapped_column(Edge)
    mid_gap: Mapped[Decimal | None] = mapped_column(Edge)
    flags: Mapped[list[Any]] = mapped_column(default=list)  # arbitrage.safety: unreviewed, thin_rules...
    book_ts: Mapped[datetime | None]  # oldest book of the pair
    book_age_s: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=now_utc)


class ArbAlert(Base):
    """An alert, and its outbox entry: enqueued by a scan, delivered to each sink by ``deliver``.

    ``key`` identifies the opportunity (match, kind, legs); ``seq`` counts its alerts, and the unique
    (key, seq) lets only one of two overlapping scans enqueue the same alert. ``status`` is ``pending``
    until every sink answered (``sent``) or the attempts ran out (``failed``); ``sinks`` maps each sink to
    "ok", "pending" or its last error.
    """

    __tablename__ = "arb_alerts"
    __table_args__ = (
        UniqueConstraint("key", "seq"),
        Index("ix_arb_alerts_status_next", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    seq: Mapped[int] = mapped_column(default=1)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("arb_opportunities.id", ondelete="SET NULL")
    )
    edge: Mapped[Decimal] = mapped_column(Edge)
    size: Mapped[Decimal] = mapped_column(Size)
    status: Mapped[str] = mapped_column(String(16), default="sent")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    next_attempt_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]  # a deliverer's lease on the row
    sent_at: Mapped[datetime | None] = mapped_column(default=now_utc)
    sinks: Mapped[dict[str, Any]] = mapped_column(default=dict)  # sink -> "ok" | "pending" | error message
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ArbDeviation(Base):
    """One observation per matched pair and scan: mid-price gap and executable edge."""

    __tablename__ = "arb_deviations"
    __table_args__ = (UniqueConstraint("match_id", "scan_run_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    scan_run_id: Mapped[int] = mapped_column(ForeignKey("arb_scan_runs.id", ondelete="CASCADE"))
    ts: Mapped[datetime]  # the books' time (as-of of the evaluation)
    mid_gap: Mapped[Decimal | None] = mapped_column(Edge)
    executable_edge: Mapped[Decimal | None] = mapped_column(Edge)
    edge_size: Mapped[Decimal | None] = mapped_column(Size)
    venue_pair: Mapped[str] = mapped_column(String(64), default="")
    category: Mapped[str] = mapped_column(String(128), default="")
