"""Records of the bundled snapshot (see ``oneprice/ingest/snapshot/FORMAT.md``) to domain types.

Markets keep their real venue names; ``extra["source"] = "replay"`` marks where they came from. ``raw`` keeps
the snapshot record without its question and rules text (stored in their own columns).
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
BINARY = (Outcome("Yes"), Outcome("No"))


def parse_market(d: Any, as_of: datetime) -> Market:
    d = record(d, "market")
    venue = req_str(d, "venue")
    if venue not in VENUES:
        raise ParseError(f"unknown_venue:{venue}")
    mid = req_str(d, "id")
    question = req_str(d, "question", rid=mid)
    close = parse_time(d.get("close_time"), "close_time", mid)
    listing = d.get("listing") or ""
    status = (
        "closed" if close is not None and close < as_of and listing != as_of.date().isoformat() else "open"
    )
    extra: dict[str, Any] = {"source": "replay", "listing": listing}
    if venue == "kalshi":
        ev = opt_str(d, "event_id") or event_ticker_of(mid)
        extra |= {"event_ticker": ev, "tick_size": "0.01"}
        outcomes = BINARY
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
        rules=d.get("rules") or "",
        status=status,
        close_time=close,
        url=url,
        extra=extra,
        raw={k: v for k, v in d.items() if k not in ("question", "rules")},  # both are columns already
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
    try:
        ex, sym, tf, ts, o, h, lo, c, v = row
        when = datetime.fromtimestamp(int(ts), UTC)
        return Bar(ex, sym, tf, when, float(o), float(h), float(lo), float(c), float(v))
    except ValueError:
        raise ParseError("bad_bar:shape" if len(row) != 9 else "bad_bar:number", repr(row)[:80]) from None
