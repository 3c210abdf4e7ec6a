"""PredictIt ``/api/marketdata/all/``: markets of contracts; each contract is one binary market.

``external_id`` is ``"<marketId>:<contractId>"``. Quotes: YES ask = ``bestBuyYesCost``, YES bid =
``bestSellYesCost``, NO ask = ``bestBuyNoCost``, NO bid = ``bestSellNoCost``. ``timeStamp`` is US Eastern
wall time without an offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from oneprice.core import Market, Outcome, ParseError, Quote
from oneprice.ingest.parsers.common import opt_str, prob, record, req_str

VENUE = "predictit"
EASTERN = ZoneInfo("America/New_York")


def eastern(raw: Any, key: str, rid: str | None = None) -> datetime | None:
    """PredictIt wall-clock text (US Eastern, no offset, up to 7 fractional digits) to aware UTC."""
    if raw in (None, "", "NA", "N/A"):
        return None
    if not isinstance(raw, str):
        raise ParseError(f"bad_time:{key}", repr(raw)[:80], rid)
    head, _, frac = raw.partition(".")
    try:
        t = datetime.fromisoformat(head + ("." + frac[:6] if frac else ""))
    except ValueError:
        raise ParseError(f"bad_time:{key}", raw[:80], rid) from None
    return (t.replace(tzinfo=EASTERN) if t.tzinfo is None else t).astimezone(UTC)


def parse_contract(m: Mapping[str, Any], c: Any, ts: datetime) -> tuple[Market, list[Quote]]:
    c = record(c, "contract")
    mkt = req_str(m, "id")
    cid = req_str(c, "id", rid=mkt)
    key = f"{mkt}:{cid}"
    mname = req_str(m, "name", rid=key)
    cname = opt_str(c, "name")
    question = mname if not cname or cname == mname else f"{mname}: {cname}"
    close = eastern(c.get("dateEnd"), "dateEnd", key)
    last = prob(c.get("lastTradePrice"), "lastTradePrice", key)
    yes_ask = prob(c.get("bestBuyYesCost"), "bestBuyYesCost", key)
    yes_bid = prob(c.get("bestSellYesCost"), "bestSellYesCost", key)
    no_ask = prob(c.get("bestBuyNoCost"), "bestBuyNoCost", key)
    no_bid = prob(c.get("bestSellNoCost"), "bestSellNoCost", key)
    status = "open" if opt_str(c, "status", "").lower() in ("open", "") else "closed"
    market = Market(
        venue=VENUE,
        market_id=key,
        question=question,
        outcomes=(Outcome("Yes", None, last), Outcome("No", None, None if last is None else 1 - last)),
        event_id=mkt,
        status=status,
        close_time=close,
        url=opt_str(m, "url"),
        extra={"market_id": mkt, "contract_id": cid},
        raw={**{k: v for k, v in m.items() if k != "contracts"}, "contract": dict(c)},
    )
    quotes = [
        Quote(VENUE, key, "Yes", ts, yes_bid, yes_ask, last),
        Quote(VENUE, key, "No", ts, no_bid, no_ask, None if last is None else 1 - last),
    ]
    return market, quotes


def parse_all(d: Any, fetched: datetime) -> tuple[list[Market], list[Quote], list[ParseError]]:
    """The whole ``marketdata/all`` payload; bad contracts are returned as rejects."""
    d = record(d, "marketdata")
    rows = d.get("markets")
    if not isinstance(rows, list):
        raise ParseError("missing_field:markets")
    markets, quotes, rejects = [], [], []
    for m in rows:
        try:
            m = record(m, "market")
            contracts = m.get("contracts")
            if not isinstance(contracts, list):
                raise ParseError("missing_field:contracts", record_id=str(m.get("id")))
            ts = eastern(m.get("timeStamp"), "timeStamp", str(m.get("id"))) or fetched
        except ParseError as exc:
            rejects.append(exc)
            continue
        for c in contracts:
            try:
                mk, qs = parse_contract(m, c, ts)
            except ParseError as exc:
                rejects.append(exc)
                continue
            markets.append(mk)
            quotes.extend(qs)
    return markets, quotes, rejects
