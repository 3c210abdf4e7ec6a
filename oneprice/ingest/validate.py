"""Make a page safe to write on every backend: clean what can be cleaned, reject what cannot.

One bad record must never fail a page (and so every rerun). Text is cleaned: a lone surrogate becomes
U+FFFD and a NUL byte is dropped (PostgreSQL refuses both, SQLite's driver refuses the first), in
titles, rules and the stored venue JSON alike, where NaN and infinity also become null. Identifiers are
never rewritten (another id would be another market): an id with such characters, or longer than its
column, rejects the record with its reason, as does a NaN, an infinity or an out-of-range number in a
price, size or bar. Rejects are ``ParseError``s, counted per reason in the ingest run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from oneprice.core import Bar, Event, Level, Market, OrderBook, ParseError, Quote

T = TypeVar("T", Quote, OrderBook)

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
MAX_ID = 255  # String(255) keys: external ids, event ids, outcome names, token ids
MAX_NAME = 64  # venue, exchange and symbol columns
MAX_PRICE = Decimal("999999")  # Numeric(12, 6)
MAX_SIZE = Decimal("1e13")  # Numeric(20, 6)


def clean_text(s: str) -> str:
    """``s`` without NUL bytes and with each lone surrogate replaced by U+FFFD."""
    if not _BAD_TEXT.search(s):
        return s
    return _BAD_TEXT.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", s)


def clean_json(v: Any) -> Any:
    """A JSON value with its text cleaned (keys too) and NaN/infinite floats as None."""
    if isinstance(v, str):
        return clean_text(v)
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, Mapping):
        return {clean_text(str(k)): clean_json(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [clean_json(x) for x in v]
    if isinstance(v, Decimal):
        return v if v.is_finite() else None
    return v


def check_id(value: str | None, field: str, record: str | None, limit: int = MAX_ID) -> None:
    if value is None:
        return
    if _BAD_TEXT.search(value):
        raise ParseError(f"bad_id:{field}", "NUL byte or lone surrogate", _shown(record))
    if len(value) > limit:
        raise ParseError(f"id_too_long:{field}", f"{len(value)} > {limit} characters", _shown(record))


def _shown(record: str | None) -> str | None:
    return None if record is None else clean_text(record)[:80]


def check_number(value: Any, field: str, record: str | None, limit: Decimal = MAX_PRICE) -> None:
    if value is None:
        return
    if isinstance(value, Decimal):
        ok = value.is_finite() and abs(value) <= limit
    else:
        ok = isinstance(value, int | float) and math.isfinite(value) and abs(value) <= float(limit)
    if not ok:
        raise ParseError(f"bad_number:{field}", repr(value)[:40], _shown(record))


def market(k: Market) -> Market:
    """``k`` cleaned, or ``ParseError`` with the reason it cannot be stored."""
    rid = k.market_id
    check_id(k.venue, "venue", rid, MAX_NAME)
    check_id(k.market_id, "market_id", rid)
    check_id(k.event_id, "event_id", rid)
    for o in k.outcomes:
        check_id(o.name, "outcome", rid)
        check_id(o.token_id, "token_id", rid)
        check_number(o.price, "outcome_price", rid)
    return replace(
        k,
        question=clean_text(k.question),
        rules=clean_text(k.rules),
        status=clean_text(k.status)[:16],
        category=clean_text(k.category)[:128],
        url=clean_text(k.url),
        extra=clean_json(dict(k.extra)),
        raw=clean_json(dict(k.raw)),
    )


def event(e: Event) -> Event:
    check_id(e.venue, "venue", e.event_id, MAX_NAME)
    check_id(e.event_id, "event_id", e.event_id)
    return replace(
        e,
        title=clean_text(e.title),
        category=clean_text(e.category)[:128],
        extra=clean_json(dict(e.extra)),
        raw=clean_json(dict(e.raw)),
    )


def quote(q: Quote) -> Quote:
    rid = q.market_id
    check_id(q.market_id, "market_id", rid)
    check_id(q.outcome, "outcome", rid)
    for name in ("bid", "ask", "last"):
        check_number(getattr(q, name), name, rid)
    check_number(q.bid_size, "bid_size", rid, MAX_SIZE)
    check_number(q.ask_size, "ask_size", rid, MAX_SIZE)
    return q


def _levels(levels: tuple[Level, ...] | list[Level], side: str, rid: str) -> None:
    for lv in levels:
        check_number(lv.price, f"{side}_price", rid)
        check_number(lv.size, f"{side}_size", rid, MAX_SIZE)


def book(b: OrderBook) -> OrderBook:
    check_id(b.market_id, "market_id", b.market_id)
    check_id(b.outcome, "outcome", b.market_id)
    _levels(b.bids, "bid", b.market_id)
    _levels(b.asks, "ask", b.market_id)
    return b


def bar(b: Bar) -> Bar:
    rid = f"{b.symbol}@{b.ts.isoformat()}"
    check_id(b.exchange, "exchange", rid, MAX_NAME)
    check_id(b.symbol, "symbol", rid, MAX_NAME)
    check_id(b.timeframe, "timeframe", rid, 8)
    for name in ("open", "high", "low", "close"):
        v = getattr(b, name)
        check_number(v, name, rid, Decimal("1e15"))
        if v <= 0:
            raise ParseError(f"bad_number:{name}", f"{v!r} is not a positive price", rid)
    check_number(b.volume, "volume", rid, Decimal("1e18"))
    if b.volume < 0 or b.low > b.high:
        raise ParseError("bad_bar", "negative volume or low above high", rid)
    return b


def page_items(items: list[Any], rejects: list[ParseError]) -> tuple[list[Any], set[tuple[str, str]]]:
    """The storable items of a page (events keep their storable markets), and the (venue, market id) of
    every market left out, whose quotes and books go with it. Rejects are appended, one per market (an
    event without markets counts as one record)."""
    out: list[Any] = []
    dropped: set[tuple[str, str]] = set()

    def keep(k: Market) -> Market | None:
        try:
            return market(k)
        except ParseError as exc:
            rejects.append(exc)
            dropped.add((k.venue, k.market_id))
            return None

    for x in items:
        try:
            if isinstance(x, Event):
                ev = event(x)
                kept = [c for c in map(keep, x.markets) if c is not None]
                out.append(replace(ev, markets=tuple(kept)))
            elif isinstance(x, Market):
                if (k := keep(x)) is not None:
                    out.append(k)
            elif isinstance(x, Bar):
                out.append(bar(x))
            else:
                out.append(x)
        except ParseError as exc:
            if isinstance(x, Event) and x.markets:  # its markets go with it, each counted
                rejects.extend(ParseError(exc.reason, exc.detail, k.market_id) for k in x.markets)
                dropped.update((k.venue, k.market_id) for k in x.markets)
            else:
                rejects.append(exc)
    return out, dropped


def prices(
    quotes: list[Quote], books: list[OrderBook], rejects: list[ParseError], dropped: set[tuple[str, str]]
) -> tuple[list[Quote], list[OrderBook]]:
    """The storable quotes and books, less those of ``dropped`` markets; rejects appended."""
    return _storable(quotes, quote, rejects, dropped), _storable(books, book, rejects, dropped)


def _storable(
    items: list[T], check: Callable[[T], T], rejects: list[ParseError], dropped: set[tuple[str, str]]
) -> list[T]:
    out: list[T] = []
    for x in items:
        if (x.venue, x.market_id) in dropped:
            continue
        try:
            out.append(check(x))
        except ParseError as exc:
            rejects.append(exc)
    return out
