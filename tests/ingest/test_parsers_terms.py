"""The contract terms venues state (strikes, expected expiration, series, group item, resolution
source) are parsed into ``Market`` fields, stored, and read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oneprice.core import ParseError
from oneprice.ingest.parsers import kalshi, polymarket

from .conftest import load

TS = datetime(2026, 1, 1, tzinfo=UTC)


def test_kalshi_strikes_expected_expiration_and_series() -> None:
    raw = load("kalshi/market_between_strike.json")[0]
    m, _ = kalshi.parse_market(raw, TS)
    assert (m.strike_type, m.floor_strike, m.cap_strike) == ("between", 5.0, 5.0)
    assert m.expected_expiration == datetime(2029, 1, 20, 15, tzinfo=UTC)
    assert m.series == "KXTRUMPSTATECOUNT"  # no series_ticker in the payload: the event's first segment
    custom, _ = kalshi.parse_market(load("kalshi/markets_raw_v2.json")[0], TS)
    assert custom.strike_type == "custom" and custom.floor_strike is None and custom.cap_strike is None


def test_kalshi_bad_strike_is_a_parse_error() -> None:
    raw = dict(load("kalshi/market_between_strike.json")[0], floor_strike="five")
    with pytest.raises(ParseError, match="bad_number:floor_strike"):
        kalshi.parse_market(raw, TS)


def test_polymarket_group_item_and_resolution_source() -> None:
    ev = load("polymarket/gamma_event.json")
    ev = ev[0] if isinstance(ev, list) else ev
    raw = ev["markets"][0]
    m, _ = polymarket.parse_market(raw, TS, ev)
    assert m.group_item == raw["groupItemTitle"] == "Stephen A. Smith"
    m2, _ = polymarket.parse_market(dict(raw, resolutionSource="https://www.bls.gov/cpi/"), TS, ev)
    assert m2.resolution_source == "https://www.bls.gov/cpi/"


def test_terms_round_trip_through_the_database(engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from oneprice.alignment.store import to_market
    from oneprice.db import models, session_scope
    from oneprice.ingest.store import market_row

    m, _ = kalshi.parse_market(load("kalshi/market_between_strike.json")[0], TS)
    with session_scope(engine) as s:
        s.add(models.Venue(name="kalshi"))
        s.flush()
        s.add(models.Market(**market_row(m)))
    with session_scope(engine) as s:
        back = to_market(s.scalars(select(models.Market)).one())
    assert (back.strike_type, back.floor_strike, back.cap_strike, back.series) == (
        "between", 5.0, 5.0, "KXTRUMPSTATECOUNT")  # fmt: skip
    assert back.expected_expiration == m.expected_expiration
