"""Manifold ``/v0/markets`` (LiteMarket objects). Play money: every market is non-executable.

Binary markets get "Yes"/"No" outcomes at ``probability``; other outcome types are skipped with the reason
``unsupported_outcome_type:<TYPE>`` (the list endpoint carries no answers for them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oneprice.core import Market, Outcome, ParseError, Quote
from oneprice.core.types import ONE
from oneprice.ingest.parsers.common import opt_bool, opt_str, parse_time, prob, record, req_str

VENUE = "manifold"


def parse_market(d: Any, ts: datetime) -> tuple[Market, list[Quote]]:
    d = record(d, "market")
    mid = req_str(d, "id")
    question = req_str(d, "question", rid=mid)
    kind = opt_str(d, "outcomeType")
    if kind != "BINARY":
        raise ParseError(f"unsupported_outcome_type:{kind or 'missing'}", record_id=mid)
    p = prob(d.get("probability"), "probability", mid)
    if p is None:
        raise ParseError("missing_field:probability", record_id=mid)
    resolved = opt_bool(d, "isResolved", rid=mid)
    close = parse_time(d.get("closeTime"), "closeTime", mid)
    status = "settled" if resolved else ("closed" if close is not None and close <= ts else "open")
    market = Market(
        venue=VENUE,
        market_id=mid,
        question=question,
        outcomes=(Outcome("Yes", None, p), Outcome("No", None, ONE - p)),
        rules=opt_str(d, "textDescription", "description"),
        status=status,
        close_time=close,
        executable=False,
        url=opt_str(d, "url"),
        extra={
            "token": opt_str(d, "token") or "MANA",
            "mechanism": opt_str(d, "mechanism"),
            "play_money": True,
        },
        raw=d,
    )
    quotes = [Quote(VENUE, mid, "Yes", ts, last=p), Quote(VENUE, mid, "No", ts, last=ONE - p)]
    return market, quotes
