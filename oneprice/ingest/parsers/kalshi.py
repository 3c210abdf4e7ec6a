"""Kalshi trade-api v2: markets, events with nested markets, order books, candlesticks.

Prices come either as legacy integer cents (``yes_bid: 42``) or as ``*_dollars`` strings
(``yes_bid_dollars: "0.4200"``); the dollar string wins when both are present. A non-integer number in a
legacy field (some normalizers rewrite cents to dollars) is read as dollars. The order book holds only
YES and NO *bids*: a NO bid at p is a YES ask at 1 - p, and vice versa.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from oneprice.core import Event, Level, Market, OrderBook, Outcome, ParseError, Quote
from oneprice.core.types import ONE
from oneprice.ingest.parsers.common import get, opt_str, parse_time, prob, record, req_str, size

VENUE = "kalshi"
CENT = Decimal("0.01")
STATUS = {
    "active": "open",
    "open": "open",
    "initialized": "open",
    "unopened": "open",
    "closed": "closed",
    "inactive": "closed",
    "paused": "closed",
    "determined": "settled",
    "settled": "settled",
    "finalized": "settled",
}


def price(d: Mapping[str, Any], key: str, rid: str | None = None) -> Decimal | None:
    """A Kalshi price field as a probability: ``<key>_dollars`` string, else legacy ``<key>`` in cents."""
    dollars = d.get(f"{key}_dollars")
    if dollars is not None:
        return prob(dollars, f"{key}_dollars", rid)
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool):
        raise ParseError(f"bad_price:{key}", repr(v), rid)
    if isinstance(v, int):
        return prob(Decimal(v) * CENT, key, rid)
    return prob(v, key, rid)  # already dollars (float or text)


def event_ticker_of(ticker: str) -> str:
    """The event ticker of a market ticker: everything before its last ``-`` segment."""
    return ticker.rsplit("-", 1)[0] if "-" in ticker else ticker


def tick_size(d: Mapping[str, Any]) -> str:
    ranges = d.get("price_ranges")
    if isinstance(ranges, list) and ranges and isinstance(ranges[0], Mapping) and ranges[0].get("step"):
        return str(Decimal(str(ranges[0]["step"])).normalize())
    t = d.get("tick_size")
    if isinstance(t, int) and not isinstance(t, bool):
        return str((Decimal(t) * CENT).normalize())
    return "0.01"


def _bid(p: Decimal | None) -> Decimal | None:
    return p if p is not None and 0 < p < ONE else None  # Kalshi reports "no bid" as 0 (or 100c)


def _ask(p: Decimal | None) -> Decimal | None:
    return p if p is not None and 0 < p < ONE else None  # ... and "no ask" as 100c (or 0)


def _strike(d: Mapping[str, Any], key: str, rid: str) -> float | None:
    """A strike (``floor_strike``, ``cap_strike``): a number, or None when absent."""
    v = d.get(key)
    if v is None or v == "":
        return None
    try:
        if isinstance(v, bool):
            raise ValueError(v)
        return float(v)
    except (TypeError, ValueError) as exc:
        raise ParseError(f"bad_number:{key}", repr(v)[:80], rid) from exc


def parse_market(d: Any, ts: datetime, event: Mapping[str, Any] | None = None) -> tuple[Market, list[Quote]]:
    """One ``/markets`` object to a ``Market`` and its YES/NO quotes observed at ``ts``."""
    d = record(d, "market")
    ticker = req_str(d, "ticker")
    question = req_str(d, "title", rid=ticker)
    ev = get(d, "event_ticker") or (event or {}).get("event_ticker") or event_ticker_of(ticker)
    rules = "\n\n".join(x for x in (opt_str(d, "rules_primary"), opt_str(d, "rules_secondary")) if x)
    status = STATUS.get(opt_str(d, "status").lower(), "closed")
    close = parse_time(get(d, "close_time", "expiration_time"), "close_time", ticker)
    yes_bid, yes_ask = price(d, "yes_bid", ticker), price(d, "yes_ask", ticker)
    no_bid, no_ask = price(d, "no_bid", ticker), price(d, "no_ask", ticker)
    last = price(d, "last_price", ticker)
    if no_bid is None and yes_ask is not None:
        no_bid = ONE - yes_ask
    if no_ask is None and yes_bid is not None:
        no_ask = ONE - yes_bid
    sub = opt_str(d, "yes_sub_title", "subtitle")
    if sub and sub.lower() not in question.lower():
        question = f"{question} ({sub})"
    market = Market(
        venue=VENUE,
        market_id=ticker,
        question=question,
        outcomes=(Outcome("Yes", None, last), Outcome("No", None, ONE - last if last is not None else None)),
        event_id=str(ev),
        rules=rules,
        status=status,
        close_time=close,
        category=opt_str(d, "category") or opt_str(event or {}, "category"),
        url=f"https://kalshi.com/markets/{str(ev).split('-')[0].lower()}",
        extra={"event_ticker": str(ev), "tick_size": tick_size(d)},
        raw=d,
        strike_type=opt_str(d, "strike_type"),
        floor_strike=_strike(d, "floor_strike", ticker),
        cap_strike=_strike(d, "cap_strike", ticker),
        expected_expiration=parse_time(
            get(d, "expected_expiration_time"), "expected_expiration_time", ticker
        ),
        series=opt_str(d, "series_ticker") or opt_str(event or {}, "series_ticker") or str(ev).split("-")[0],
    )
    quotes = [
        Quote(VENUE, ticker, "Yes", ts, _bid(yes_bid), _ask(yes_ask), last),
        Quote(VENUE, ticker, "No", ts, _bid(no_bid), _ask(no_ask), ONE - last if last is not None else None),
    ]
    return market, quotes


def parse_event(d: Any) -> Event:
    """An ``/events`` object's header (its nested markets are parsed one by one by the client)."""
    d = record(d, "event")
    et = req_str(d, "event_ticker")
    raw = {k: v for k, v in d.items() if k != "markets"}
    return Event(
        venue=VENUE,
        event_id=et,
        title=opt_str(d, "title") or et,
        category=opt_str(d, "category"),
        extra={"series_ticker": opt_str(d, "series_ticker"), "sub_title": opt_str(d, "sub_title")},
        raw=raw,
    )


def _ladder(rows: Any, dollars: bool, key: str, rid: str) -> list[tuple[Decimal, Decimal]]:
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise ParseError(f"bad_type:{key}", record_id=rid)
    out = []
    for row in rows:
        if not isinstance(row, list | tuple) or len(row) < 2:
            raise ParseError(f"bad_level:{key}", repr(row)[:80], rid)
        p_raw = row[0]
        if not dollars and isinstance(p_raw, int) and not isinstance(p_raw, bool):
            p = prob(Decimal(p_raw) * CENT, key, rid)
        else:
            p = prob(p_raw, key, rid)
        assert p is not None
        out.append((p, size(row[1], key, rid)))
    return out


def parse_orderbook(d: Any, ticker: str, ts: datetime) -> list[OrderBook]:
    """``/markets/{ticker}/orderbook`` (``orderbook_fp`` dollars or legacy cents) to YES and NO books."""
    d = record(d, "orderbook")
    if isinstance(d.get("orderbook_fp"), Mapping):
        ob, yes_key, no_key, dollars = d["orderbook_fp"], "yes_dollars", "no_dollars", True
    elif isinstance(d.get("orderbook"), Mapping):
        ob = d["orderbook"]
        dollars = ob.get("yes_dollars") is not None or ob.get("no_dollars") is not None
        yes_key, no_key = ("yes_dollars", "no_dollars") if dollars else ("yes", "no")
    else:
        raise ParseError("missing_field:orderbook", record_id=ticker)
    yes = _ladder(ob.get(yes_key), dollars, yes_key, ticker)
    no = _ladder(ob.get(no_key), dollars, no_key, ticker)
    yes_book = OrderBook.build(
        VENUE, ticker, "Yes", ts, [Level(p, s) for p, s in yes], [Level(ONE - p, s) for p, s in no]
    )
    no_book = OrderBook.build(
        VENUE, ticker, "No", ts, [Level(p, s) for p, s in no], [Level(ONE - p, s) for p, s in yes]
    )
    return [yes_book, no_book]


def parse_candlesticks(d: Any, ticker: str) -> tuple[list[Quote], list[ParseError]]:
    """``/series/{s}/markets/{t}/candlesticks`` to YES quotes at each period's end (closing bid/ask/price)."""
    d = record(d, "candlesticks")
    rows = d.get("candlesticks")
    if not isinstance(rows, list):
        raise ParseError("missing_field:candlesticks", record_id=ticker)
    quotes, rejects = [], []
    for c in rows:
        try:
            c = record(c, "candlestick")
            ts = parse_time(c.get("end_period_ts"), "end_period_ts", ticker)
            if ts is None:
                raise ParseError("missing_field:end_period_ts", record_id=ticker)
            bid = price(record(c.get("yes_bid") or {}, "yes_bid"), "close", ticker)
            ask = price(record(c.get("yes_ask") or {}, "yes_ask"), "close", ticker)
            last = price(record(c.get("price") or {}, "price"), "close", ticker)
            quotes.append(Quote(VENUE, ticker, "Yes", ts, _bid(bid), _ask(ask), last))
        except ParseError as exc:
            rejects.append(exc)
    return quotes, rejects
