"""Venue clients end to end against a real HTTP server on 127.0.0.1 replaying the fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from oneprice.config import Settings
from oneprice.core import Market, ParseError, TransientError
from oneprice.ingest import make_client
from oneprice.ingest.base import Page
from oneprice.ingest.venues.kalshi import KalshiClient
from oneprice.ingest.venues.polymarket import PolymarketClient

from .conftest import FakeVenue, Reply, load


def cursor_pages(rows: list[Any], key: str) -> Any:
    """A Kalshi-style handler: ``limit`` rows per page, opaque cursor = "c<offset>"."""

    def handler(q: dict[str, str]) -> dict[str, Any]:
        start = int(q.get("cursor", "c0")[1:])
        n = int(q["limit"])
        nxt = f"c{start + n}" if start + n < len(rows) else ""
        return {key: rows[start : start + n], "cursor": nxt}

    return handler


def offset_pages(rows: list[Any]) -> Any:
    return lambda q: rows[int(q.get("offset", 0)) : int(q.get("offset", 0)) + int(q["limit"])]


async def collect(pages: Any) -> list[Page[Any]]:
    return [p async for p in pages]


async def test_kalshi_markets_cursor_pagination_and_bad_records(fake: FakeVenue, settings: Settings) -> None:
    rows = load("kalshi/markets_raw_v2.json")
    rows[3] = {k: v for k, v in rows[3].items() if k != "ticker"}
    rows[7] = {**rows[7], "yes_bid_dollars": "lots"}
    rows[12] = "not an object"
    fake.route("/trade-api/v2/markets", cursor_pages(rows, "markets"))
    client = make_client("kalshi", settings=settings, base_url=fake.url + "/trade-api/v2", page_size=10)
    async with client:
        pages = await collect(client.markets())
    assert [len(p.items) + len(p.rejects) for p in pages] == [10, 10, 4]
    assert [p.cursor for p in pages] == ["c10", "c20", None]
    assert sorted(e.reason for p in pages for e in p.rejects) == [
        "bad_price:yes_bid_dollars",
        "bad_type:market",
        "missing_field:ticker",
    ]
    assert sum(len(p.items) for p in pages) == 21 and sum(len(p.quotes) for p in pages) == 42
    hits = fake.hits("/trade-api/v2/markets")
    assert [h.get("cursor") for h in hits] == [None, "c10", "c20"] and hits[0]["status"] == "open"


async def test_kalshi_resume_from_cursor_and_limit(fake: FakeVenue, settings: Settings) -> None:
    fake.route("/markets", cursor_pages(load("kalshi/markets_raw_v2.json"), "markets"))
    async with KalshiClient(settings, base_url=fake.url, page_size=10) as client:
        pages = await collect(client.markets(cursor="c10"))
        assert sum(len(p.items) for p in pages) == 14
        limited = await collect(client.markets(limit=12))
    assert sum(len(p.items) for p in limited) == 12 and limited[-1].cursor is None


async def test_kalshi_events_nested_markets(fake: FakeVenue, settings: Settings) -> None:
    events = load("kalshi/events_pirodax.json")
    fake.route("/events", cursor_pages(events, "events"))
    async with KalshiClient(settings, base_url=fake.url, page_size=4) as client:
        pages = await collect(client.events())
    got = [e for p in pages for e in p.items]
    assert len(got) == len(events) and len(pages) == 3
    assert sum(len(e.markets) for e in got) == sum(len(e["markets"]) for e in events)
    assert all(h["with_nested_markets"] == "true" for h in fake.hits("/events"))


async def test_kalshi_orderbook_and_candlesticks(fake: FakeVenue, settings: Settings) -> None:
    fake.route("/markets/KXNYKCOACH-25-MNORI/orderbook", load("kalshi/orderbook_fp.json"))
    fake.route(
        "/series/KXNYKCOACH/markets/KXNYKCOACH-25-MNORI/candlesticks", load("kalshi/candlesticks_raw.json")
    )
    m = Market("kalshi", "KXNYKCOACH-25-MNORI", "q", extra={"event_ticker": "KXNYKCOACH-25"})
    async with KalshiClient(settings, base_url=fake.url) as client:
        yes, no = await client.order_books(m)
        hist = await client.price_history(
            m, datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC), "1d"
        )
    assert yes.best_ask == Decimal("0.44") and no.best_ask == Decimal("0.58")
    assert len(hist) == 11
    q = fake.hits("/series/KXNYKCOACH/markets/KXNYKCOACH-25-MNORI/candlesticks")[0]
    assert q["period_interval"] == "1440" and q["start_ts"] == str(
        int(datetime(2025, 6, 1, tzinfo=UTC).timestamp())
    )


async def test_kalshi_malformed_page_and_missing_list(fake: FakeVenue, settings: Settings) -> None:
    fake.route("/markets", [Reply(200, b"<html>maintenance</html>")])
    fake.route("/events", {"unexpected": []})
    async with KalshiClient(settings, base_url=fake.url) as client:
        with pytest.raises(ParseError, match="malformed_json"):
            await collect(client.markets())
        with pytest.raises(ParseError, match="missing_field:events"):
            await collect(client.events())


async def test_kalshi_retries_500_and_429_between_pages(fake: FakeVenue, settings: Settings) -> None:
    rows = load("kalshi/markets_raw_v2.json")
    pages = cursor_pages(rows, "markets")
    script = [Reply(500, {}), Reply(429, {}, {"Retry-After": "0"}), "ok"]

    def flaky(q: dict[str, str]) -> Any:
        if q.get("cursor") == "c10" and script[0] != "ok":
            return script.pop(0)
        return pages(q)

    fake.route("/markets", flaky)
    async with KalshiClient(settings, base_url=fake.url, page_size=10) as client:
        got = await collect(client.markets())
    assert sum(len(p.items) for p in got) == 24 and len(fake.hits("/markets")) == 5


async def test_polymarket_offset_pagination_events_books_history(fake: FakeVenue, settings: Settings) -> None:
    markets = [
        load("polymarket/gamma_market.json"),
        load("polymarket/gamma_market_closed_binary_accepting_true.json"),
    ]
    markets += load("polymarket/markets_pirodax.json")
    markets.insert(4, {"question": "no condition id"})
    fake.route("/markets", offset_pages(markets))
    fake.route(
        "/events", offset_pages(load("polymarket/gamma_event.json") + load("polymarket/events_pirodax.json"))
    )
    up, _down = json.loads(markets[0]["clobTokenIds"])
    fake.route(
        "/book",
        lambda q: load("polymarket/book_up.json" if q["token_id"] == up else "polymarket/book_down.json"),
    )
    fake.route("/prices-history", load("polymarket/prices_history.json"))
    client = make_client("polymarket", settings=settings, gamma_url=fake.url, clob_url=fake.url, page_size=5)
    assert isinstance(client, PolymarketClient)
    async with client:
        pages = await collect(client.markets())
        events = [e for p in await collect(client.events()) for e in p.items]
        m = pages[0].items[0]
        books = await client.order_books(m)
        hist = await client.price_history(
            m, datetime(2026, 3, 12, tzinfo=UTC), datetime(2026, 3, 13, tzinfo=UTC)
        )
    assert [h["offset"] for h in fake.hits("/markets")] == ["0", "5", "10"]
    assert sum(len(p.items) for p in pages) == 12 and [e.reason for p in pages for e in p.rejects] == [
        "missing_field:conditionId"
    ]
    assert len(events) == 11 and events[0].markets[0].extra["neg_risk"] is True
    assert [b.outcome for b in books] == ["Up", "Down"] and books[1].best_ask == Decimal("0.50")
    assert len(hist) == 24 and {q.outcome for q in hist} == {"Up", "Down"}
    assert fake.hits("/prices-history")[0]["fidelity"] == "60"


async def test_manifold_before_pagination(fake: FakeVenue, settings: Settings) -> None:
    rows = load("manifold/markets.json")

    def handler(q: dict[str, str]) -> list[Any]:
        ids = [r["id"] for r in rows]
        start = ids.index(q["before"]) + 1 if "before" in q else 0
        return rows[start : start + int(q["limit"])]

    fake.route("/v0/markets", handler)
    async with make_client("manifold", settings=settings, base_url=fake.url + "/v0", page_size=2) as client:
        pages = await collect(client.markets())
    assert [h.get("before") for h in fake.hits("/v0/markets")] == [None, "b8Hd2kWq9R", "d9Ry4Lm2Qa"]
    markets = [m for p in pages for m in p.items]
    assert len(markets) == 3 and not any(m.executable for m in markets)
    assert [e.reason for p in pages for e in p.rejects] == ["unsupported_outcome_type:MULTIPLE_CHOICE"]


async def test_predictit_all(fake: FakeVenue, settings: Settings) -> None:
    fake.route("/api/marketdata/all/", load("predictit/all.json"))
    async with make_client("predictit", settings=settings, base_url=fake.url + "/api/marketdata") as client:
        (page,) = await collect(client.markets())
    assert [m.market_id for m in page.items] == ["8069:32203", "8069:32204", "8156:32580"]
    assert len(page.quotes) == 6 and page.cursor is None


async def test_failing_venue_raises_transient_after_retries(fake: FakeVenue, settings: Settings) -> None:
    fake.route("/markets", [Reply(502, {})])
    async with KalshiClient(settings, base_url=fake.url) as client:
        with pytest.raises(TransientError):
            await collect(client.markets())
    assert len(fake.hits("/markets")) == settings.http_max_retries + 1


def binance_routes(fake: FakeVenue) -> list[list[Any]]:
    klines = load("binance/klines.json")

    def klines_handler(q: dict[str, str]) -> list[Any]:
        start = int(q.get("startTime", 0))
        rows = [k for k in klines if k[0] >= start]
        return rows[: int(q.get("limit", 500))]

    fake.route("/api/v3/exchangeInfo", load("binance/exchange_info.json"))
    fake.route("/api/v3/klines", klines_handler)
    fake.route("/api/v3/depth", load("binance/depth.json"))
    return klines


async def test_ccxt_binance_ohlcv_paged_by_since_and_book(fake: FakeVenue, settings: Settings) -> None:
    klines = binance_routes(fake)
    client = make_client(
        "ccxt:binance",
        settings=settings,
        api_url=fake.url,
        page_limit=4,
        options={"fetchMarkets": {"types": ["spot"]}},
    )
    since = datetime.fromtimestamp(klines[0][0] / 1000, UTC)
    async with client:
        pages = await collect(client.ohlcv("BTC/USDT", "1m", since))
        book = await client.order_books(Market("binance", "BTC/USDT", "BTC/USDT"))
    bars = [b for p in pages for b in p.items]
    assert [len(p.items) for p in pages] == [4, 4, 2, 0]
    assert [b.ts for b in bars] == [datetime.fromtimestamp(k[0] / 1000, UTC) for k in klines]
    assert bars[0].open == 60685.22 and bars[0].exchange == "binance" and bars[0].symbol == "BTC/USDT"
    starts = [h["startTime"] for h in fake.hits("/api/v3/klines")]
    assert starts[0] == str(klines[0][0]) and starts[1] == str(klines[4][0])
    assert book[0].best_bid == Decimal("60650.0") and book[0].best_ask is not None
    assert len(fake.hits("/api/v3/exchangeInfo")) == 1


async def test_ccxt_retries_5xx(fake: FakeVenue, settings: Settings) -> None:
    binance_routes(fake)
    good = fake.routes["/api/v3/depth"]
    script = [Reply(503, b"<html><body>503 Service Unavailable</body></html>")]
    fake.route("/api/v3/depth", lambda q: script.pop() if script else good(q))  # type: ignore[operator]
    client = make_client(
        "ccxt:binance", settings=settings, api_url=fake.url, options={"fetchMarkets": {"types": ["spot"]}}
    )
    async with client:
        book = await client.order_books(Market("binance", "BTC/USDT", "BTC/USDT"))
    assert book[0].best_bid == Decimal("60650.0") and len(fake.hits("/api/v3/depth")) == 2


async def test_replay_client_serves_snapshot(settings: Settings) -> None:
    from oneprice.ingest import snapshot

    client = make_client("replay", settings=settings.model_copy(update={"replay_depth": 250.0}))
    pages = await collect(client.markets())
    markets = [m for p in pages for m in p.items]
    assert len(markets) == snapshot.manifest()["files"]["markets.jsonl.gz"]["rows"]
    assert {m.venue for m in markets} == {"kalshi", "polymarket"}
    assert all(m.extra["source"] == "replay" for m in markets)
    quoted = next(m for p in pages for m in p.items if p.books and m.market_id == p.books[0].market_id)
    books = await client.order_books(quoted)
    assert {b.outcome for b in books} <= {"Yes", "No"} and all(
        lv.size == 250 for b in books for lv in b.bids + b.asks
    )
    k = next(m for m in markets if m.venue == "kalshi")
    assert k.event_id == k.market_id.rsplit("-", 1)[0]
