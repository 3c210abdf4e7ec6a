"""Event-driven engine: order-level strategies over bars or quote books, several instruments at once.

Orders: market, limit and stop, buys and sells, explicit sizes or all-in (``size=None``), and
``target(name, side)`` with the vectorised engine's semantics. Orders placed on bar ``i`` fill from
bar ``i + 1`` on (market orders fill at the signal bar's close when ``fill="close"``). Bar fills: a
market order at the open (or close), a buy limit when the low reaches it at min(open, limit), a sell
stop when the low reaches it at min(open, stop) (mirrored for sell limits and buy stops), slippage
from the shared :class:`CostModel`. Quote fills: buys at the ask, sells at the bid, at most the quoted
size (the recorded depth); a limit fills when the quote crosses it. Book fills (``Instrument.books``,
core ``OrderBook``s) walk every level, no further than a limit price, fees per level rounded once.
Brackets and closes are reduce-only orders. A prediction-market instrument
with ``settle_at`` pays ``payout`` (exactly 0 or 1) per contract at that bar, with no fee.
Cash is a ``Decimal`` when the initial cash is one (exact settlement maths), else a float.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from oneprice.backtest.costs import CostModel, buy_all, sell_size
from oneprice.backtest.orders import Instrument, Order, _ok, _Open, _row
from oneprice.backtest.result import TRADE_COLUMNS, BacktestResult, empty_trades


@dataclass
class Broker:
    index: pd.DatetimeIndex
    instruments: dict[str, Instrument]
    cost: CostModel
    cash: Any
    fill: str = "next_open"
    unit: float = 0.0
    allow_short: bool = False
    i: int = 0
    positions: dict[str, Any] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    rejected: list[Order] = field(default_factory=list)
    fees: Any = 0
    _open: dict[str, _Open] = field(default_factory=dict)
    _closed: list[dict[str, Any]] = field(default_factory=list)
    _settled: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.exact = isinstance(self.cash, Decimal)
        self.fees = self._num(0)

    def _num(self, x: Any) -> Any:
        if self.exact:
            return x if isinstance(x, Decimal) else Decimal(str(x))
        return float(x)

    # -- strategy API ---------------------------------------------------------------------------
    def position(self, name: str) -> Any:
        return self.positions.get(name, self._num(0))

    def buy(self, name: str, size: Any = None, limit: Any = None, stop: Any = None, tag: str = "") -> Order:
        return self._place(name, 1, size, limit, stop, tag)

    def sell(self, name: str, size: Any = None, limit: Any = None, stop: Any = None, tag: str = "") -> Order:
        return self._place(name, -1, size, limit, stop, tag)

    def close(self, name: str, tag: str = "close") -> Order | None:
        pos = self.position(name)
        if pos == 0:
            return None
        return self._place(name, -1 if pos > 0 else 1, abs(pos), None, None, tag, reduce_only=True)

    def target(self, name: str, side: float) -> None:
        """Hold a full long (+1), short (-1) or no (0) position, like the vectorised engine."""
        pos = self.position(name)
        cur = int(pos > 0) - int(pos < 0)
        if side == cur or (side < 0 and not self.allow_short):
            return
        if cur != 0 and (side == 0 or (side > 0) != (cur > 0)):
            self.close(name, tag="target")
        if side != 0:
            o = self._place(name, 1 if side > 0 else -1, None, None, None, "target")
            o.reason = "open"

    def entry_price(self, name: str) -> Any:
        """Average entry price of the open position in ``name`` (None when flat)."""
        t = self._open.get(name)
        return t.entry_notional / t.size if t is not None and t.size else None

    def cancel(self, order: Order) -> None:
        if order.status == "open":
            order.status = "cancelled"
            self.orders.remove(order)

    def mark(self, name: str) -> Any:
        """The instrument's price now: the bar's close, or the quote's mid (else the last known)."""
        ins = self.instruments[name]
        if ins.close is not None:
            return ins.close[self.i]
        bid: Any = ins.bid[self.i] if ins.bid is not None else None
        ask: Any = ins.ask[self.i] if ins.ask is not None else None
        if _ok(bid) and _ok(ask):
            return (bid + ask) / 2
        return bid if _ok(bid) else ask

    @property
    def equity(self) -> Any:
        total = self.cash
        for name, pos in self.positions.items():
            if pos != 0:
                m = self.mark(name)
                if _ok(m):
                    total += pos * self._num(m)
        return total

    # -- internals --------------------------------------------------------------------------------
    def _place(
        self, name: str, side: int, size: Any, limit: Any, stop: Any, tag: str, reduce_only: bool = False
    ) -> Order:
        if name not in self.instruments:
            raise KeyError(f"unknown instrument {name!r}; have {', '.join(self.instruments)}")
        kind = "limit" if limit is not None else "stop" if stop is not None else "market"
        price = limit if limit is not None else stop
        o = Order(name, side, None if size is None else self._num(size), kind, price, tag, self.i)
        o.reduce_only = reduce_only
        if name in self._settled:
            o.status, o.reason = "rejected", "settled"
            self.rejected.append(o)
            return o
        if kind == "market" and self.fill == "close":
            self._execute(o, self._market_price(o, at_close=True))
        else:
            self.orders.append(o)
        return o

    def _market_price(self, o: Order, at_close: bool) -> Any:
        ins = self.instruments[o.instrument]
        if ins.quoted:
            return None  # books: price comes from the quote when executing
        return ins.close[self.i] if at_close else ins.open[self.i]

    def _process(self) -> None:
        for o in list(self.orders):
            if o.status != "open" or o.placed >= self.i:
                continue
            ins = self.instruments[o.instrument]
            px = self._trigger(o, ins)
            if px is not None or (o.kind == "market" and ins.quoted):
                self.orders.remove(o)
                self._execute(o, px)

    def _trigger(self, o: Order, ins: Instrument) -> Any:
        i = self.i
        if ins.quoted:
            quote = ins.ask[i] if o.side > 0 else ins.bid[i]
            if o.kind == "market" or not _ok(quote):
                return None
            hit = quote <= o.price if (o.side > 0) == (o.kind == "limit") else quote >= o.price
            return quote if hit else None
        op, hi, lo = ins.open[i], ins.high[i], ins.low[i]
        if o.kind == "market":
            return op
        if o.kind == "limit":
            if o.side > 0:
                return min(op, o.price) if lo <= o.price else None
            return max(op, o.price) if hi >= o.price else None
        if o.side > 0:
            return max(op, o.price) if hi >= o.price else None
        return min(op, o.price) if lo <= o.price else None

    def _execute(self, o: Order, ref: Any) -> None:
        ins = self.instruments[o.instrument]
        cost = ins.cost or self.cost
        pos = self.position(o.instrument)
        avail = None
        if ins.quoted:
            ref = ins.ask[self.i] if o.side > 0 else ins.bid[self.i]
            sizes = ins.ask_size if o.side > 0 else ins.bid_size
            depth = sizes[self.i] if sizes is not None else None
            avail = self._num(depth) if _ok(depth) and ins.books is None else None
            px = self._num(ref) if _ok(ref) else None
        else:
            px = cost.fill_price(self._num(ref), o.side) if o.kind != "limit" else self._num(ref)
        if px is None or px <= 0:
            return self._reject(o, "no price")
        size = o.size
        if o.reduce_only:
            if pos == 0 or (pos > 0) == (o.side > 0):
                return self._reject(o, "nothing to reduce")
            size = abs(pos) if size is None else min(size, abs(pos))
        if o.side < 0 and pos <= 0 and not self.allow_short:
            return self._reject(o, "no position to sell")
        if o.side < 0 and pos > 0 and (size is None or not self.allow_short):
            size = pos if size is None else min(size, pos)
        all_in = size is None
        if size is None:
            size = self._affordable(cost, self.cash, px)
        if avail is not None and size > avail:
            size, all_in = avail, False
        if size <= 0:
            return self._reject(o, "size zero")
        if ins.books is not None and ins.books[self.i] is not None:
            return self._execute_book(o, ins, cost, pos, size, all_in)
        if o.side > 0:
            if all_in and not self.exact and cost.linear:
                size, spent, fee = buy_all(self.cash, px, cost.fee, cost.fixed, self.unit)
            else:
                fee = cost.fee_for(size, px)
                spent = size * px + fee
                if pos >= 0 and spent > (self.cash if self.exact else self.cash * (1 + 1e-12)):
                    return self._reject(o, "insufficient cash")
            self.cash -= spent
        else:
            if cost.linear and not self.exact:
                net, fee = sell_size(size, px, cost.fee, cost.fixed)
            else:
                fee = cost.fee_for(size, px)
                net = size * px - fee
            self.cash += net
        self.fees += fee
        self.positions[o.instrument] = pos + o.side * size
        o.status = "filled"
        self._book(o.instrument, pos, o.side, size, px, fee)
        return None

    def _execute_book(
        self, o: Order, ins: Instrument, cost: CostModel, pos: Any, size: Any, all_in: bool
    ) -> None:
        """Walk the levels (not past a limit price); all-in buys shrink until cash covers them."""
        book = ins.books[self.i]
        levels = book.asks if o.side > 0 else book.bids
        if o.kind == "limit":
            levels = [lv for lv in levels if (lv.price <= o.price if o.side > 0 else lv.price >= o.price)]
        for _ in range(8):
            fills, left = [], size
            for lv in levels:
                take = min(left, self._num(lv.size))
                if take > 0:
                    fills.append((self._num(lv.price), take))
                    left -= take
            filled = sum((q for _, q in fills), self._num(0))
            notional = sum((p * q for p, q in fills), self._num(0))
            fee = cost.fee_for_fills(fills)
            if o.side < 0 or pos < 0 or notional + fee <= self.cash or filled <= 0:
                break
            if not all_in:
                return self._reject(o, "insufficient cash")
            size = filled * self.cash / (notional + fee) * self._num(0.999999)
            if self.unit:
                size = self._num(math.floor(size / self._num(self.unit))) * self._num(self.unit)
        if filled <= 0 or (o.side > 0 and pos >= 0 and notional + fee > self.cash):
            return self._reject(o, "no depth" if filled <= 0 else "insufficient cash")
        self.cash += -(notional + fee) if o.side > 0 else notional - fee
        self.fees += fee
        self.positions[o.instrument] = pos + o.side * filled
        o.status = "filled"
        self._book(o.instrument, pos, o.side, filled, notional / filled, fee, notional)
        return None

    def _affordable(self, c: CostModel, cash: Any, px: Any) -> Any:
        """Largest size whose cost plus fees fits in ``cash`` (whole ``unit``s when unit > 0)."""
        if not self.exact and c.linear:
            return buy_all(cash, px, c.fee, c.fixed, self.unit)[0]
        unit = self._num(self.unit) if self.unit else None
        per = px * (1 + self._num(c.fee)) + self._num(c.pm_fee) * px * (1 - px)
        size = (cash - self._num(c.fixed)) / per
        if unit:
            size = self._num(math.floor(size / unit)) * unit
            while size > 0 and size * px + c.fee_for(size, px) > cash:
                size -= unit
        return max(size, self._num(0))

    def _reject(self, o: Order, reason: str) -> None:
        o.status, o.reason = "rejected", reason
        self.rejected.append(o)

    def _book(
        self, name: str, pos: Any, side: int, size: Any, px: Any, fee: Any, notional: Any = None
    ) -> None:
        t = self._open.get(name)
        if t is None:
            z = self._num(0)
            t = self._open[name] = _Open(side, self.index[self.i], z, z, z, z, z, z)
        t.prices.setdefault(side, set()).add(px)
        if side == t.direction:
            t.size += size
            t.entry_notional += size * px if notional is None else notional
            t.entry_fee += fee
        else:
            t.exit_size += size
            t.exit_notional += size * px if notional is None else notional
            t.exit_fee += fee
        if self.positions[name] == 0:
            self._finish(name, t, "closed")

    def _finish(self, name: str, t: _Open, status: str) -> None:
        flows = (t.exit_notional - t.entry_notional) * t.direction
        self._closed.append(_row(name, t, self.index[self.i], flows - t.entry_fee - t.exit_fee, status))
        del self._open[name]

    def settle(self, name: str, payout: Any) -> None:
        """Resolve ``name``: every contract pays ``payout`` (0 or 1), no fee; open orders cancelled."""
        payout = self._num(payout)
        pos = self.position(name)
        for o in [o for o in self.orders if o.instrument == name]:
            self.cancel(o)
        if pos != 0:
            self.cash += pos * payout
            self.positions[name] = self._num(0)
            t = self._open[name]
            t.exit_size += abs(pos)
            t.exit_notional += abs(pos) * payout
            t.prices.setdefault(-t.direction, set()).add(payout)
            self._finish(name, t, "settled")
        self._settled.add(name)


Strategy = Callable[[Broker], None]


def run_events(
    index: pd.DatetimeIndex,
    instruments: Sequence[Instrument],
    on_bar: Strategy,
    cost: CostModel,
    cash: Any = 10_000.0,
    fill: str = "next_open",
    unit: float = 0.0,
    allow_short: bool = False,
    price: np.ndarray | None = None,
    meta: dict[str, Any] | None = None,
) -> BacktestResult:
    """Step through ``index``: fill due orders, settle resolutions, call ``on_bar``, mark equity."""
    if fill not in ("close", "next_open"):
        raise ValueError(f"unknown fill {fill!r}; choose close or next_open")
    b = Broker(index, {x.name: x for x in instruments}, cost, cash, fill, unit, allow_short)
    n = len(index)
    equity, position = np.empty(n), np.empty(n)
    settle_at = {x.name: (x.settle_at, x.payout) for x in instruments if x.settle_at is not None}
    for i in range(n):
        b.i = i
        b._process()
        for name, (at, payout) in settle_at.items():
            if at == i and name not in b._settled:
                b.settle(name, payout)
        if len(b._settled) < len(b.instruments):
            on_bar(b)
        equity[i] = float(b.equity)
        position[i] = float(sum(abs(p) for p in b.positions.values()))
    b.i = n - 1
    for name, t in list(b._open.items()):
        m = b.mark(name)
        mark = b._num(m) if _ok(m) else t.entry_notional / t.size
        unreal = (mark * abs(b.position(name)) - (t.entry_notional - t.exit_notional)) * t.direction
        pnl = unreal - t.entry_fee - t.exit_fee
        row = _row(name, t, pd.NaT, pnl, "open")
        b._closed.append(row)
    trades = pd.DataFrame(b._closed, columns=TRADE_COLUMNS) if b._closed else empty_trades()
    if price is None:
        first = instruments[0].close
        price = np.asarray(first, dtype=np.float64) if first is not None else np.full(n, np.nan)
    m = dict(meta or {})
    m.update(final_cash=b.cash, rejected=len(b.rejected), engine="event", fill=fill)
    return BacktestResult(index, equity, position, trades, float(b.fees), float(cash), price, m)
