"""Records of the bundled snapshot (see ``oneprice/ingest/snapshot/FORMAT.md``) to domain types.

Markets keep their real venue names; ``extra["source"] = "replay"`` marks where they came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from oneprice.core import Bar, Level, Market, OrderBook, Outcome, ParseError, Quote
from oneprice.ingest.parsers.common import opt_str, parse_time, prob, record, req_str
from oneprice.ingest.parsers.kalshi import event_ticker_of

VENUES = ("kalshi", "polymarket")


def parse_market(d: Any, as_of: datetime) -> Market:
    d = record(d, "market")
    venue = req_str(d, "venue")
    if venue not in VENUES:
        raise ParseError(f"unknown_venue:{venue}")
    mid = req_str(d, "id")
    question = req_str(d, "question", rid=mid)
    close = parse_time(d.get("close_time"), "close_time", mid)
    status = (
        "closed" if d.get("listing") != str(as_of.date()) and close is not None and close < as_of else "open"
    )
    extra: dict[str, Any] = {"source": "replay", "listing": opt_str(d, "listing")}
    if venue == "kalshi":
        ev = opt_str(d, "event_id") or event_ticker_of(mid)
        extra |= {"event_ticker": ev, "tick_size": "0.01"}
        outcomes = (Outcome("Yes"), Outcome("No"))
        url = f"https://kalshi.com/markets/{ev.split('-')[0].lower()}"
    else:
        ev = ""
        extra |= {
            "neg_risk": False,
            "neg_risk_augmented": False,
            "fee_rate": None,
            "fee_exponent": None,
            "tick_size": "0.01",
            "event_id": None,
            "slug": "",
        }
        outcomes = (Outcome("Yes", d.get("yes_token") or None), Outcome("No", d.get("no_token") or None))
        url = ""
    return Market(
        venue=venue,
        market_id=mid,
        question=question,
        outcomes=outcomes,
        event_id=ev or None,
        rules=opt_str(d, "rules"),
        status=status,
        close_time=close,
        url=url,
        extra=extra,
        raw=d,
    )


def parse_quotes(d: Mapping[str, str]) -> list[Quote]:
    """One recorded row to a "Yes" and a "No" quote at its time."""
    venue, mid = req_str(d, "venue"), req_str(d, "id")
    ts = parse_time(d.get("ts"), "ts", mid)
    if ts is None:
        raise ParseError("missing_field:ts", record_id=mid)
    yb, ya, nb, na = (_quoted(prob(d.get(k), k, mid)) for k in ("yes_bid", "yes_ask", "no_bid", "no_ask"))
    return [Quote(venue, mid, "Yes", ts, yb, ya), Quote(venue, mid, "No", ts, nb, na)]


def _quoted(p: Decimal | None) -> Decimal | None:
    """The recording writes "no bid" as 0 and "no ask" as 1; neither is a tradable price."""
    return p if p is not None and 0 < p < 1 else None


def one_level_book(q: Quote, depth: Decimal) -> OrderBook:
    """A book with one level of ``depth`` contracts at the recorded best bid and at the best ask."""
    bids = [Level(q.bid, depth)] if q.bid is not None else []
    asks = [Level(q.ask, depth)] if q.ask is not None else []
    return OrderBook.build(q.venue, q.market_id, q.outcome, q.ts, bids, asks)


def parse_bar(row: list[str]) -> Bar:
    if len(row) != 9:
        raise ParseError("bad_bar:shape", repr(row)[:80])
    try:
        o, h, lo, c, v = (float(x) for x in row[4:9])
        ts = datetime.fromtimestamp(int(row[3]), UTC)
    except ValueError:
        raise ParseError("bad_bar:number", repr(row)[:80]) from None
    return Bar(row[0], row[1], row[2], ts, o, h, lo, c, v)
