"""Inputs: bars from the database, CSV or Parquet; prediction-market quote history; signal series.

Errors name what is available: unknown symbols list the stored symbols, empty ranges give the
stored span. Bars are checked as they are read (``InputError`` naming the row): prices must be finite,
positive and below ``MAX_PRICE``, volumes finite and non-negative; a timestamp given twice with
different values is refused (an exact repeat is dropped). Numeric time columns are epoch times whose
unit (s, ms, us or ns) is read from their magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from oneprice.core.errors import InputError, NotFoundError, ParseError
from oneprice.db import Bar, QuoteRow, session_scope

COLUMNS = ("open", "high", "low", "close", "volume")
MAX_PRICE = 1e12


def epoch_unit(values: pd.Series) -> str:
    """The unit of numeric epoch times: seconds below 1e11 (year 5138), then ms, us, ns by magnitude."""
    top = float(np.nanmax(np.abs(values.to_numpy(dtype=np.float64)))) if len(values) else 0.0
    for unit, bound in (("s", 1e11), ("ms", 1e14), ("us", 1e17)):
        if top < bound:
            return unit
    return "ns"


def _to_index(t: pd.Series, name: str) -> pd.DatetimeIndex:
    try:
        if t.dtype.kind in "iuf":
            if not np.all(np.isfinite(t.to_numpy(dtype=np.float64))):
                raise InputError(f"column {name!r} has an empty or non-finite time")
            return pd.DatetimeIndex(pd.to_datetime(t, utc=True, unit=epoch_unit(t)))
        return pd.DatetimeIndex(pd.to_datetime(t, utc=True))
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"column {name!r} is not a time: {' '.join(str(exc).split())[:120]}") from None


def check_bars(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (sorted, UTC index) with exact repeats dropped; ``InputError`` naming the first bad row."""
    cols = [c for c in COLUMNS if c in df.columns]
    num = df[cols].apply(pd.to_numeric, errors="coerce").astype(np.float64)
    for c in cols:
        v = num[c].to_numpy()
        bad = ~np.isfinite(v) | (v < 0 if c == "volume" else (v <= 0) | (v > MAX_PRICE))
        if bad.any():
            i = int(np.argmax(bad))
            what = "a finite volume >= 0" if c == "volume" else f"a finite price in (0, {MAX_PRICE:g}]"
            raise InputError(f"bar at {num.index[i]} has {c}={df[c].iloc[i]!r}; need {what}")
    dup = num.index.duplicated(keep=False)
    if dup.any():
        repeated = num[dup]
        conflicting = repeated.groupby(level=0).nunique(dropna=False).max(axis=1) > 1
        if conflicting.any():
            ts = conflicting[conflicting].index[0]
            raise InputError(f"timestamp {ts} appears twice with different values; remove one of them")
        num = num[~num.index.duplicated(keep="first")]
    return num


@dataclass
class Bars:
    """OHLCV arrays on a UTC index of bar open times."""

    index: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    symbol: str = ""
    timeframe: str = ""
    exchange: str = ""

    def __len__(self) -> int:
        return len(self.index)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, symbol: str = "", timeframe: str = "", exchange: str = "") -> Bars:
        """From a frame with a datetime index (or a time column) and OHLC(V) columns, any case."""
        df = df.rename(columns={c: str(c).strip().lower() for c in df.columns})
        if not isinstance(df.index, pd.DatetimeIndex):
            tcol = next((c for c in ("ts", "date", "datetime", "time", "timestamp") if c in df.columns), None)
            if tcol is None:
                raise ParseError("missing_field:ts", "no time column (ts, date, datetime, time or timestamp)")
            df = df.set_index(_to_index(df[tcol], tcol))
        missing = [c for c in COLUMNS[:4] if c not in df.columns]
        if missing:
            raise ParseError(f"missing_field:{missing[0]}", f"bars need columns {', '.join(COLUMNS[:4])}")
        idx = pd.DatetimeIndex(df.index)
        idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
        df = check_bars(df.set_axis(idx).sort_index(kind="stable"))
        cols = {c: df[c].to_numpy(dtype=np.float64) if c in df else np.zeros(len(df)) for c in COLUMNS}
        return cls(pd.DatetimeIndex(df.index), **cols, symbol=symbol, timeframe=timeframe, exchange=exchange)

    def slice(self, start: datetime | str | None = None, end: datetime | str | None = None) -> Bars:
        """Bars with open time in [start, end] (either may be None)."""
        lo = 0 if start is None else int(self.index.searchsorted(_ts(start)))
        hi = len(self) if end is None else int(self.index.searchsorted(_ts(end), side="right"))
        s = slice(lo, hi)
        return Bars(
            self.index[s],
            self.open[s],
            self.high[s],
            self.low[s],
            self.close[s],
            self.volume[s],
            self.symbol,
            self.timeframe,
            self.exchange,
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({c: getattr(self, c) for c in COLUMNS}, index=self.index)


def _ts(x: datetime | str) -> pd.Timestamp:
    t = pd.Timestamp(x)
    return t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")


def read_bars_file(path: str | Path, symbol: str = "", timeframe: str = "") -> Bars:
    """Bars from a CSV (optionally gzipped) or Parquet file."""
    p = Path(path)
    if not p.exists():
        raise NotFoundError(f"bar file not found: {p}")
    df = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)
    return Bars.from_frame(df, symbol=symbol or p.stem, timeframe=timeframe)


def available_bars(engine: Engine) -> list[dict[str, Any]]:
    """Every (exchange, symbol, timeframe) stored, with its bar count and span."""
    with session_scope(engine) as s:
        q = select(Bar.exchange, Bar.symbol, Bar.timeframe, func.count(), func.min(Bar.ts), func.max(Bar.ts))
        rows = s.execute(q.group_by(Bar.exchange, Bar.symbol, Bar.timeframe)).all()
    return [dict(exchange=r[0], symbol=r[1], timeframe=r[2], bars=r[3], first=r[4], last=r[5]) for r in rows]


def load_bars(
    engine: Engine,
    symbol: str,
    timeframe: str,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    exchange: str = "binance",
) -> Bars:
    """Bars from the ``bars`` table; NotFoundError naming what is stored when none match."""
    with session_scope(engine) as s:
        q = select(Bar.ts, Bar.open, Bar.high, Bar.low, Bar.close, Bar.volume).where(
            Bar.exchange == exchange, Bar.symbol == symbol, Bar.timeframe == timeframe
        )
        if start is not None:
            q = q.where(Bar.ts >= _ts(start).to_pydatetime())
        if end is not None:
            q = q.where(Bar.ts <= _ts(end).to_pydatetime())
        rows = s.execute(q.order_by(Bar.ts)).all()
    if not rows:
        have = available_bars(engine)
        match = [
            h for h in have if (h["exchange"], h["symbol"], h["timeframe"]) == (exchange, symbol, timeframe)
        ]
        if match:
            h = match[0]
            raise NotFoundError(
                f"no {exchange} {symbol} {timeframe} bars between {start} and {end}; "
                f"stored: {h['bars']} bars from {h['first']:%Y-%m-%d %H:%M} to {h['last']:%Y-%m-%d %H:%M} UTC"
            )
        listing = ", ".join(f"{h['exchange']}:{h['symbol']} {h['timeframe']}" for h in have) or "none"
        raise NotFoundError(f"no bars for {exchange}:{symbol} {timeframe}; available: {listing}")
    df = pd.DataFrame(rows, columns=["ts", *COLUMNS]).set_index("ts")
    return Bars.from_frame(df, symbol=symbol, timeframe=timeframe, exchange=exchange)


def load_quotes(engine: Engine, market_id: int, outcome: str) -> pd.DataFrame:
    """Quote history of one outcome of a market: ts-indexed bid, ask, bid_size, ask_size, last (Decimal)."""
    with session_scope(engine) as s:
        rows = s.execute(
            select(
                QuoteRow.ts, QuoteRow.bid, QuoteRow.ask, QuoteRow.bid_size, QuoteRow.ask_size, QuoteRow.last
            )
            .where(QuoteRow.market_id == market_id, func.lower(QuoteRow.outcome) == outcome.lower())
            .order_by(QuoteRow.ts)
        ).all()
    return pd.DataFrame(rows, columns=["ts", "bid", "ask", "bid_size", "ask_size", "last"]).set_index("ts")
