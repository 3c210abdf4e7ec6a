"""One bad record never blocks a venue: it is cleaned or rejected with its reason, the rest is stored.

The records travel the real path: JSON from an HTTP server on 127.0.0.1, the Kalshi client and parser,
the ingest service and the bulk upsert, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, func, select

from oneprice.config import Settings
from oneprice.db import Event, Market, session_scope
from oneprice.ingest.venues.kalshi import KalshiClient
from oneprice.services import ingest as svc
from oneprice.services.container import build_services
from tests.ingest.conftest import FakeVenue, load
from tests.ingest.test_clients import cursor_pages

PAGE = 10


def _bad_rows() -> tuple[list[dict[str, Any]], dict[str, str]]:
    rows = load("kalshi/markets_raw_v2.json")
    tickers = {}
    rows[1] = {**rows[1], "title": "Lone \ud800 surrogate"}  # cleaned
    rows[2] = {**rows[2], "title": "NUL\x00 byte", "rules_primary": "a\x00b"}  # cleaned
    rows[4] = {**rows[4], "ticker": "K" * 300}  # rejected: id_too_long
    rows[5] = {**rows[5], "volume": float("nan"), "liquidity": float("inf")}  # cleaned (raw JSON)
    rows[6] = {**rows[6], "yes_bid_dollars": float("nan")}  # rejected: bad price
    rows[8] = {**rows[8], "ticker": "KX\x00NUL-1"}  # rejected: bad_id
    rows[11] = {**rows[11], "event_ticker": "E\ud800"}  # rejected: bad_id
    for i in (1, 2, 5):
        tickers[rows[i]["ticker"]] = rows[i]["title"]
    return rows, tickers


def _ingest(engine: Engine, fake: FakeVenue, settings: Settings) -> svc.IngestSummary:
    client = KalshiClient(settings=settings, base_url=fake.url + "/trade-api/v2", page_size=PAGE)
    url = engine.url.render_as_string(hide_password=False)
    return svc.ingest(build_services(db_url=url), "kalshi", client=client)


def test_bad_records_are_rejected_or_cleaned_and_the_rest_stored(
    engine: Engine, fake: FakeVenue, settings: Settings
) -> None:
    rows, cleaned = _bad_rows()
    events = [{"event_ticker": r["event_ticker"], "title": "E", "markets": [r]} for r in rows]
    fake.route("/trade-api/v2/events", cursor_pages(events, "events"))
    out = _ingest(engine, fake, settings)
    assert out.status == "ok", out.errors
    assert out.rejects == {
        "id_too_long:market_id": 1,
        "bad_price:yes_bid_dollars": 1,
        "bad_id:market_id": 1,
        "bad_id:event_id": 1,
    }
    with session_scope(engine) as s:
        n = s.scalar(select(func.count()).select_from(Market))
        stored = {r.external_id: r for r in s.scalars(select(Market))}
    assert n == len(rows) - 4
    assert stored[next(iter(cleaned))].question.startswith("Lone \ufffd surrogate")
    nul = next(t for t in cleaned if "NUL" in cleaned[t])
    assert stored[nul].question.startswith("NUL byte") and stored[nul].rules.startswith("ab")
    nan = list(cleaned)[2]
    assert stored[nan].raw["volume"] is None and stored[nan].raw["liquidity"] is None
    again = _ingest(engine, fake, settings)  # a rerun stores nothing new and fails nothing
    assert again.status == "ok" and again.tables["markets"] == {"inserted": 0, "updated": 0, "unchanged": 20}
    assert again.tables["events"]["inserted"] == 0 and again.tables["events"]["updated"] == 0
    assert again.rejects == out.rejects


def test_an_event_with_a_bad_id_is_rejected_with_its_markets(
    engine: Engine, fake: FakeVenue, settings: Settings
) -> None:
    market = load("kalshi/markets_raw_v2.json")[0]
    good = {"event_ticker": "KXGOOD-1", "title": "Good \ud800", "category": "x", "markets": [market]}
    bad = {"event_ticker": "KX\x00BAD", "title": "Bad", "category": "x", "markets": [market, market]}
    fake.route("/trade-api/v2/events", lambda q: {"events": [good, bad], "cursor": ""})
    client = KalshiClient(settings=settings, base_url=fake.url + "/trade-api/v2", page_size=PAGE)
    pages = []

    async def go() -> None:
        async with client:
            async for p in client.events():
                pages.append(p)

    import asyncio

    asyncio.run(go())
    from oneprice.ingest.store import write_page

    with session_scope(engine) as s:
        wc = write_page(s, pages[0])
    assert wc.rejected >= 1 and any(e.reason == "bad_id:event_id" for e in pages[0].rejects)
    with session_scope(engine) as s:
        titles = [e.title for e in s.scalars(select(Event))]
    assert titles == ["Good \ufffd"]
    assert json.dumps(titles)  # stored text is valid Unicode
