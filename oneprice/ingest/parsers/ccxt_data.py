"""ccxt's unified structures (OHLCV rows, order books) to ``Bar`` and ``OrderBook``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from oneprice.core import Bar, Level, OrderBook, ParseError


def _num(v: Any, key: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ParseError(f"bad_type:{key}", repr(v)[:80])
    try:
        x = float(v)
    except ValueError:
        raise ParseError(f"bad_number:{key}", repr(v)[:80]) from None
    if not math.isfinite(x):
        raise ParseError(f"bad_number:{key}", repr(v)[:80])
    return x


def parse_ohlcv(row: Any, exchange: str, symbol: str, timeframe: str) -> Bar:
    """``[ms, open, high, low, close, volume]`` to a ``Bar``; rejects inconsistent highs and lows."""
    if not isinstance(row, list | tuple) or len(row) < 6:
        raise ParseError("bad_bar:shape", repr(row)[:80])
    ms = _num(row[0], "timestamp")
    o, h, lo, c, v = (
        _num(x, k) for x, k in zip(row[1:6], ("open", "high", "low", "close", "volume"), strict=True)
    )
    if h < max(o, c, lo) or lo > min(o, c) or v < 0 or min(o, h, lo, c) <= 0:
        raise ParseError("bad_bar:inconsistent", repr(row)[:80])
    return Bar(exchange, symbol, timeframe, datetime.fromtimestamp(ms / 1000, UTC), o, h, lo, c, v)


def parse_order_book(ob: Any, exchange: str, symbol: str, fetched: datetime) -> OrderBook:
    """ccxt's ``{"bids": [[price, amount]], "asks": ..., "timestamp": ms}`` to an ``OrderBook``."""
    if not isinstance(ob, Mapping):
        raise ParseError("bad_type:order_book")

    def levels(key: str) -> list[Level]:
        rows = ob.get(key) or []
        out = []
        for r in rows:
            if not isinstance(r, list | tuple) or len(r) < 2:
                raise ParseError(f"bad_level:{key}", repr(r)[:80])
            out.append(Level(Decimal(str(_num(r[0], key))), Decimal(str(_num(r[1], key)))))
        return out

    ts = ob.get("timestamp")
    when = datetime.fromtimestamp(ts / 1000, UTC) if isinstance(ts, int | float) and ts else fetched
    return OrderBook.build(exchange, symbol, symbol, when, levels("bids"), levels("asks"))
