"""Polymarket: Gamma ``/markets`` and ``/events``, CLOB ``/book`` and ``/prices-history``.

Gamma sends ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` as JSON-encoded strings; the three lists
are zipped per record and outcomes are then looked up by NAME ("Yes"/"No", "Up"/"Down", a team...), never
by index. Both Gamma's camelCase keys and snake_case re-spellings are read. Gamma's ``bestBid``/``bestAsk``
quote the "Yes" token, so they become a "Yes" quote only when an outcome is named "Yes".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from oneprice.core import Event, Level, Market, OrderBook, Outcome, ParseError, Quote
from oneprice.ingest.parsers.common import (
    get,
    json_list,
    opt_bool,
    opt_str,
    parse_time,
    prob,
    record,
    req_str,
    size,
)

VENUE = "polymarket"


def _float(v: Any) -> float | None:
    if v is None or v == "" or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _fees(d: Mapping[str, Any]) -> tuple[float | None, float | None]:
    sched = get(d, "feeSchedule", "fee_schedule")
    if isinstance(sched, Mapping) and get(sched, "rate") is not None:
        return _float(get(sched, "rate")), _float(get(sched, "exponent"))
    if get(d, "feesEnabled", "fees_enabled") is False:
        return 0.0, None
    return None, None


def _status(d: Mapping[str, Any], rid: str) -> str:
    if opt_str(d, "umaResolutionStatus", "uma_resolution_status").lower() == "resolved":
        return "settled"
    closed = opt_bool(d, "closed", rid=rid)
    archived = opt_bool(d, "archived", rid=rid)
    active = opt_bool(d, "active", rid=rid)
    if closed or archived or active is False:
        return "closed"
    return "open"


def parse_outcomes(d: Mapping[str, Any], rid: str) -> tuple[Outcome, ...]:
    names = json_list(get(d, "outcomes"), "outcomes", rid)
    prices = json_list(get(d, "outcomePrices", "outcome_prices"), "outcomePrices", rid)
    tokens = json_list(get(d, "clobTokenIds", "clob_token_ids"), "clobTokenIds", rid)
    if not names:
        raise ParseError("missing_field:outcomes", record_id=rid)
    if (prices and len(prices) != len(names)) or (tokens and len(tokens) != len(names)):
        raise ParseError("outcome_length_mismatch", f"{len(names)}/{len(prices)}/{len(tokens)}", rid)
    out = []
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise ParseError("bad_type:outcomes", repr(name)[:80], rid)
        p = prob(prices[i], "outcomePrices", rid) if prices else None
        tok = str(tokens[i]) if tokens else None
        out.append(Outcome(name, tok, p))
    if len({o.name.lower() for o in out}) != len(out):
        raise ParseError("duplicate_outcome", record_id=rid)
    return tuple(out)


def parse_market(d: Any, ts: datetime, event: Mapping[str, Any] | None = None) -> tuple[Market, list[Quote]]:
    """A Gamma market object (top-level or nested in an event) to a ``Market`` and its quotes at ``ts``."""
    d = record(d, "market")
    cid = req_str(d, "conditionId", "condition_id", rid=opt_str(d, "id") or None)
    question = req_str(d, "question", rid=cid)
    outcomes = parse_outcomes(d, cid)
    events = d.get("events")
    ev = event or (
        events[0] if isinstance(events, list) and events and isinstance(events[0], Mapping) else {}
    )
    fee_rate, fee_exp = _fees(d)
    neg = opt_bool(d, "negRisk", "neg_risk", rid=cid)
    if neg is None:
        neg = opt_bool(ev, "negRisk", "enableNegRisk", "neg_risk", rid=cid)
    aug = opt_bool(d, "negRiskAugmented", "neg_risk_augmented", rid=cid)
    if aug is None:
        aug = opt_bool(ev, "negRiskAugmented", "neg_risk_augmented", rid=cid)
    tick = get(d, "orderPriceMinTickSize", "order_price_min_tick_size", "minimum_tick_size")
    slug = opt_str(d, "slug", "market_slug")
    event_id = get(ev, "id")
    market = Market(
        venue=VENUE,
        market_id=cid,
        question=question,
        outcomes=outcomes,
        event_id=str(event_id) if event_id is not None else None,
        rules=opt_str(d, "description"),
        status=_status(d, cid),
        close_time=parse_time(get(d, "endDate", "end_date", "endDateIso"), "endDate", cid),
        category=opt_str(d, "category") or opt_str(ev, "category"),
        url=f"https://polymarket.com/event/{opt_str(ev, 'slug') or slug}" if (slug or ev) else "",
        extra={
            "neg_risk": bool(neg),
            "neg_risk_augmented": bool(aug),
            "fee_rate": fee_rate,
            "fee_exponent": fee_exp,
            "tick_size": str(Decimal(str(tick)).normalize()) if tick is not None else "0.01",
            "event_id": str(event_id) if event_id is not None else None,
            "slug": slug,
            "gamma_id": opt_str(d, "id"),
        },
        raw=d,
        group_item=opt_str(d, "groupItemTitle", "group_item_title"),
        resolution_source=opt_str(d, "resolutionSource", "resolution_source")
        or opt_str(ev, "resolutionSource", "resolution_source"),
    )
    quotes: list[Quote] = []
    names = {o.name.lower(): o for o in outcomes}
    if "yes" in names:
        bid = prob(get(d, "bestBid", "best_bid"), "bestBid", cid)
        ask = prob(get(d, "bestAsk", "best_ask"), "bestAsk", cid)
        last = prob(get(d, "lastTradePrice", "last_trade_price"), "lastTradePrice", cid)
        if bid is not None or ask is not None or last is not None:
            quotes.append(Quote(VENUE, cid, names["yes"].name, ts, bid or None, ask, last))
    return market, quotes


def parse_event(d: Any) -> Event:
    """A Gamma event's header; its nested ``markets`` are parsed one by one by the client."""
    d = record(d, "event")
    eid = req_str(d, "id")
    tags = d.get("tags") or []
    names = [t.get("label", "") if isinstance(t, Mapping) else str(t) for t in tags if t]
    return Event(
        venue=VENUE,
        event_id=eid,
        title=opt_str(d, "title") or opt_str(d, "slug") or eid,
        category=opt_str(d, "category") or (names[0] if names else ""),
        close_time=parse_time(get(d, "endDate", "end_date"), "endDate", eid),
        extra={
            "slug": opt_str(d, "slug"),
            "neg_risk": bool(opt_bool(d, "negRisk", "neg_risk", rid=eid)),
            "neg_risk_augmented": bool(opt_bool(d, "negRiskAugmented", "neg_risk_augmented", rid=eid)),
            "tags": names,
        },
        raw={k: v for k, v in d.items() if k != "markets"},
    )


def _levels(rows: Any, key: str, rid: str) -> list[Level]:
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise ParseError(f"bad_type:{key}", record_id=rid)
    out = []
    for r in rows:
        r = record(r, key)
        p = prob(r.get("price"), key, rid)
        if p is None:
            raise ParseError(f"missing_field:{key}.price", record_id=rid)
        out.append(Level(p, size(r.get("size"), key, rid)))
    return out


def parse_book(d: Any, market_id: str, outcome: str, ts: datetime) -> OrderBook:
    """CLOB ``/book?token_id=`` to one outcome's book (levels re-sorted best first)."""
    d = record(d, "book")
    when = parse_time(d.get("timestamp"), "timestamp", market_id) or ts
    return OrderBook.build(
        VENUE,
        market_id,
        outcome,
        when,
        _levels(d.get("bids"), "bids", market_id),
        _levels(d.get("asks"), "asks", market_id),
    )


def parse_prices_history(d: Any, market_id: str, outcome: str) -> tuple[list[Quote], list[ParseError]]:
    """CLOB ``/prices-history`` (``{"history": [{"t": epoch_s, "p": price}]}``) to last-price quotes."""
    d = record(d, "prices-history")
    rows = d.get("history")
    if not isinstance(rows, list):
        raise ParseError("missing_field:history", record_id=market_id)
    quotes, rejects = [], []
    for r in rows:
        try:
            r = record(r, "history")
            ts = parse_time(r.get("t"), "t", market_id)
            p = prob(r.get("p"), "p", market_id)
            if ts is None or p is None:
                raise ParseError("missing_field:t" if ts is None else "missing_field:p", record_id=market_id)
            quotes.append(Quote(VENUE, market_id, outcome, ts, last=p))
        except ParseError as exc:
            rejects.append(exc)
    return quotes, rejects
