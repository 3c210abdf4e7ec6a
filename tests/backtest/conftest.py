"""Backtest fixtures: real BTC/USDT 1h bars (Binance USD-M, see tests/fixtures/backtest/PROVENANCE.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from oneprice.backtest import Bars, read_bars_file
from oneprice.db import Bar, session_scope, upsert

BTC = Path(__file__).parents[1] / "fixtures" / "backtest" / "BTCUSDT_1h.csv.gz"


@pytest.fixture(scope="session")
def btc_all() -> Bars:
    return read_bars_file(BTC, "BTC/USDT", "1h")


@pytest.fixture
def btc(btc_all: Bars) -> Bars:
    """2,000 real hourly bars (2023-01-01 onwards)."""
    b = btc_all.slice("2023-01-01", None)
    return b.slice(b.index[0], b.index[1999])


def insert_bars(engine: Engine, bars: Bars, exchange: str = "binance") -> None:
    rows = [
        {
            "exchange": exchange,
            "symbol": bars.symbol,
            "timeframe": bars.timeframe,
            "ts": ts.to_pydatetime(),
            "open": float(o),
            "high": float(h),
            "low": float(lo),
            "close": float(c),
            "volume": float(v),
        }
        for ts, o, h, lo, c, v in zip(
            bars.index, bars.open, bars.high, bars.low, bars.close, bars.volume, strict=True
        )
    ]
    with session_scope(engine) as s:
        upsert(s, Bar, rows, keys=("exchange", "symbol", "timeframe", "ts"), returning=None)
