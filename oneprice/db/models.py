"""Foundation tables: venues, events, markets, outcomes, quotes, books, bars, ingest runs, matches.

Natural keys carry unique constraints so every write can be an idempotent upsert.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oneprice.db.base import Base, Price, Size, now_utc

BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrement needs INTEGER


class Venue(Base):
    __tablename__ = "venues"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="prediction")
    executable: Mapped[bool] = mapped_column(default=True)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("venue", "external_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    venue: Mapped[str] = mapped_column(String(64), ForeignKey("venues.name"), index=True)
    external_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(128), default="")
    close_time: Mapped[datetime | None]
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc)


class Market(Base):
    __tablename__ = "markets"
    __table_args__ = (
        UniqueConstraint("venue", "external_id"),
        Index("ix_markets_venue_status", "venue", "status"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    venue: Mapped[str] = mapped_column(String(64), ForeignKey("venues.name"))
    external_id: Mapped[str] = mapped_column(String(255))
    event_external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    question: Mapped[str] = mapped_column(Text)
    rules: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    close_time: Mapped[datetime | None]
    category: Mapped[str] = mapped_column(String(128), default="")
    executable: Mapped[bool] = mapped_column(default=True)
    url: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc)
    # the contract terms the venue states (core.types.Market), compared exactly by alignment
    strike_type: Mapped[str] = mapped_column(String(32), default="", server_default="")
    floor_strike: Mapped[float | None]
    cap_strike: Mapped[float | None]
    expected_expiration: Mapped[datetime | None]
    series: Mapped[str] = mapped_column(String(255), default="", server_default="")
    group_item: Mapped[str] = mapped_column(Text, default="", server_default="")
    resolution_source: Mapped[str] = mapped_column(Text, default="", server_default="")


class Outcome(Base):
    __tablename__ = "outcomes"
    __table_args__ = (UniqueConstraint("market_id", "name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    token_id: Mapped[str | None] = mapped_column(String(255), index=True)
    price: Mapped[Decimal | None] = mapped_column(Price)


class QuoteRow(Base):
    __tablename__ = "quotes"
    __table_args__ = (UniqueConstraint("market_id", "outcome", "ts"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(255))
    ts: Mapped[datetime]
    bid: Mapped[Decimal | None] = mapped_column(Price)
    ask: Mapped[Decimal | None] = mapped_column(Price)
    last: Mapped[Decimal | None] = mapped_column(Price)
    bid_size: Mapped[Decimal | None] = mapped_column(Size)
    ask_size: Mapped[Decimal | None] = mapped_column(Size)


class BookSnapshot(Base):
    __tablename__ = "book_snapshots"
    __table_args__ = (UniqueConstraint("market_id", "outcome", "ts"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(255))
    ts: Mapped[datetime]
    bids: Mapped[list[Any]] = mapped_column(default=list)  # [[price, size], ...] as strings, best first
    asks: Mapped[list[Any]] = mapped_column(default=list)


class Bar(Base):
    __tablename__ = "bars"
    __table_args__ = (UniqueConstraint("exchange", "symbol", "timeframe", "ts"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    exchange: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(64))
    timeframe: Mapped[str] = mapped_column(String(8))
    ts: Mapped[datetime]
    open: Mapped[float]
    high: Mapped[float]
    low: Mapped[float]
    close: Mapped[float]
    volume: Mapped[float]


class IngestRun(Base):
    __tablename__ = "ingest_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=now_utc)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|ok|partial|failed
    fetched: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    rejects: Mapped[dict[str, Any]] = mapped_column(default=dict)  # reason -> count
    errors: Mapped[list[Any]] = mapped_column(default=list)  # messages, secrets never included
    checkpoint: Mapped[dict[str, Any]] = mapped_column(default=dict)  # resume state (cursor, page)


class Match(Base):
    """A proposed, confirmed or rejected relation between two binary markets (A, B)."""

    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("market_a_id", "market_b_id"), Index("ix_matches_status", "status"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    market_a_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    market_b_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    relation: Mapped[str] = mapped_column(String(32))  # equivalent|inverse|a_implies_b|...
    outcome_map: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"Yes": "No"}: B outcome hedging A's
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed|confirmed|rejected
    method: Mapped[str] = mapped_column(String(64), default="")
    confidence: Mapped[float] = mapped_column(default=0.0)
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)  # deciding facets
    model_version: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(128))
