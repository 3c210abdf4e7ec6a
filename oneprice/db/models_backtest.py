"""Backtest tables: persisted runs (params, metrics, equity, trades) and signal series.

``signals`` is written by other work (sentiment, agents) and read by the signal-driven strategy:
one value per (source, key, ts), where ``key`` is a ccxt symbol ("BTC/USDT") or "market:<id>".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oneprice.db.base import Base, now_utc
from oneprice.db.models import BigId


class BacktestRun(Base):
    __tablename__ = "backtest_runs"
    __table_args__ = (Index("ix_backtest_runs_strategy_created", "strategy", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | failed
    kind: Mapped[str] = mapped_column(String(16), default="bars")  # bars | pair
    strategy: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(16), default="vector")
    fill: Mapped[str] = mapped_column(String(16), default="close")
    exchange: Mapped[str] = mapped_column(String(64), default="")
    symbol: Mapped[str] = mapped_column(String(255), default="")  # ccxt symbol, or "match:<id>"
    timeframe: Mapped[str] = mapped_column(String(8), default="")
    source: Mapped[str] = mapped_column(String(32), default="db")  # db | file
    start: Mapped[datetime | None]
    end: Mapped[datetime | None]
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    costs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    series: Mapped[dict[str, Any]] = mapped_column(default=dict)  # ts, equity, drawdown, price (downsampled)
    trades: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str] = mapped_column(Text, default="")


class Signal(Base):
    __tablename__ = "signals"
    __table_args__ = (UniqueConstraint("source", "key", "ts"), Index("ix_signals_key_ts", "key", "ts"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # e.g. "finbert", "quantagent"
    key: Mapped[str] = mapped_column(String(255))  # symbol or "market:<id>"
    market_id: Mapped[int | None] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    ts: Mapped[datetime]
    value: Mapped[float]
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
