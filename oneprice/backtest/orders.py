"""Event-engine records: instruments (bars, quotes or books), orders, and open-trade ledgers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from oneprice.backtest.costs import CostModel


@dataclass
class Instrument:
    """Bars (``open``..``close``) or quotes (``bid``/``ask`` with optional sizes), aligned to the index."""

    name: str
    open: Any = None
    high: Any = None
    low: Any = None
    close: Any = None
    bid: Any = None
    ask: Any = None
    bid_size: Any = None
    ask_size: Any = None
    settle_at: int | None = None  # bar index of resolution
    payout: Any = None  # 0 or 1 per contract
    cost: CostModel | None = None  # this instrument's venue fees (default: the run's)
    books: Any = None  # per bar: a core OrderBook (every level walked) or None

    def __post_init__(self) -> None:
        if self.books is not None:  # best levels drive triggers and marks
            bb = [b.bids[0] if b is not None and b.bids else None for b in self.books]
            ba = [b.asks[0] if b is not None and b.asks else None for b in self.books]
            self.bid, self.bid_size = [x and x.price for x in bb], [x and x.size for x in bb]
            self.ask, self.ask_size = [x and x.price for x in ba], [x and x.size for x in ba]

    @property
    def quoted(self) -> bool:
        return self.close is None


@dataclass
class Order:
    instrument: str
    side: int  # +1 buy, -1 sell
    size: Any = None  # None: all-in (buy) or the whole position (sell)
    kind: str = "market"  # market | limit | stop
    price: Any = None
    tag: str = ""
    placed: int = 0
    status: str = "open"  # open | filled | cancelled | rejected
    reason: str = ""
    reduce_only: bool = False  # only ever shrinks the position (closes, stops, take-profits)


@dataclass
class _Open:
    direction: int
    entry_time: Any
    size: Any
    entry_notional: Any
    entry_fee: Any
    exit_size: Any
    exit_notional: Any
    exit_fee: Any
    prices: dict[int, set[Any]] = field(default_factory=dict)  # side -> fill prices seen


def _ok(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _row(name: str, t: _Open, exit_time: Any, pnl: Any, status: str) -> dict[str, Any]:
    # one fill price: report it exactly; several: the size-weighted average
    ent, ext = t.prices.get(t.direction, set()), t.prices.get(-t.direction, set())
    entry_price = next(iter(ent)) if len(ent) == 1 else t.entry_notional / t.size
    exit_price = (
        (next(iter(ext)) if len(ext) == 1 else t.exit_notional / t.exit_size) if t.exit_size else None
    )
    return {
        "instrument": name,
        "direction": "long" if t.direction > 0 else "short",
        "size": t.size,
        "entry_time": t.entry_time,
        "entry_price": entry_price,
        "exit_time": exit_time if status != "open" else pd.NaT,
        "exit_price": exit_price,
        "entry_fee": t.entry_fee,
        "exit_fee": t.exit_fee,
        "pnl": pnl,
        "return": pnl / t.entry_notional if t.entry_notional else None,
        "status": status,
    }
