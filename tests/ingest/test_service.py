"""The ingest service on both backends: idempotence, page-atomic checkpoints and resume, reject counting,
failed runs, the dashboard queries and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from oneprice.config import Settings, get_settings
from oneprice.db import BookSnapshot, IngestRun, Market, Outcome, QuoteRow, session_scope
from oneprice.db import models as m
from oneprice.ingest import store
from oneprice.ingest.venues.replay import ReplayClient
from oneprice.services import ingest as svc
from oneprice.services.container import build_services

from .conftest import FakeVenue, Reply, load

TABLES = (m.Venue, m.Event, m.Market, m.Outcome, m.QuoteRow, m.BookSnapshot, m.Bar, m.Match)


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


def snapshot_state(engine: Engine) -> list[Any]:
    with session_scope(engine) as s:
        return [
            tuple(r)
            for r in s.execute(select(Market.id, Market.external_id, Market.updated_at).order_by(Market.id))
        ]


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEPRICE_INGEST_PAGE_SIZE", "300")
    get_settings.cache_clear()


def test_replay_twice_leaves_every_count_unchanged(engine: Engine, small_pages: None) -> None:
    url = url_of(engine)
    first = svc.ingest(build_services(db_url=url), "replay", limit=900, symbol="ETH/USDT", timeframe="1d")
    assert first.status == "ok" and first.rejected == 0 and first.updated == 0
    assert first.tables["markets"]["inserted"] == 900 and first.tables["bars"]["inserted"] > 1500
    before, state = counts(engine), snapshot_state(engine)
    second = svc.ingest(build_services(db_url=url), "replay", limit=900, symbol="ETH/USDT", timeframe="1d")
    assert second.status == "ok" and second.inserted == 0 and second.updated == 0
    assert counts(engine) == before and snapshot_state(engine) == state
    assert before["markets"] == 900 and before["outcomes"] == 1800 and before["quotes"] > 0
    assert before["book_snapshots"] > 0 and before["matches"] == 0


class Killed(BaseException):
    """Stands in for the process dying in the middle of a page."""


def test_killed_page_is_rolled_back_and_next_run_resumes(
    engine: Engine, small_pages: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = url_of(engine)
    real = store.upsert
    calls = {"outcomes": 0}

    def dying_upsert(session: Any, model: Any, rows: Any, keys: Any, **kw: Any) -> Any:
        if model is m.Outcome:
            calls["outcomes"] += 1
            if calls["outcomes"] == 3:  # page 3: its markets are already written in this transaction
                raise Killed()
        return real(session, model, rows, keys, **kw)

    monkeypatch.setattr(store, "upsert", dying_upsert)
    with pytest.raises(Killed):
        svc.ingest(build_services(db_url=url), "replay", limit=1500, symbol="BTC/USDT", timeframe="1d")
    c = counts(engine)
    assert (
        c["markets"] == 600 and c["outcomes"] == 1200 and c["bars"] == 0
    )  # two whole pages, nothing of the third
    with session_scope(engine) as s:
        run = s.scalars(select(IngestRun)).one()
        assert run.status == "failed" and run.errors == ["interrupted: Killed"]
        assert run.checkpoint["stream"] == 0 and run.checkpoint["cursor"] == "600" and run.fetched == 600
        orphans = s.scalar(
            select(func.count()).select_from(Market).where(~Market.id.in_(select(Outcome.market_id)))
        )
        assert orphans == 0

    monkeypatch.setattr(store, "upsert", real)
    resumed = svc.ingest(build_services(db_url=url), "replay", limit=1500, symbol="BTC/USDT", timeframe="1d")
    assert resumed.status == "ok" and resumed.resumed_from == run.id
    assert resumed.tables["markets"] == {"inserted": 900, "updated": 0, "unchanged": 0}
    pages = _replay_pages(1500)
    c = counts(engine)
    assert c["markets"] == 1500 and c["outcomes"] == 3000
    assert c["quotes"] == sum(len(p.quotes) for p in pages) and c["book_snapshots"] == sum(
        len(p.books) for p in pages
    )
    assert c["bars"] == 1570
    runs = svc.list_ingest_runs(build_services(db_url=url))
    assert [r.status for r in runs] == ["ok", "failed"] and "resumed by run" in runs[1].errors[-1]


def _replay_pages(limit: int) -> list[Any]:
    import asyncio

    async def go() -> list[Any]:
        return [p async for p in ReplayClient(page_size=300).markets(limit=limit)]

    return asyncio.run(go())


def kalshi_events_with_bad_records() -> list[Any]:
    events = load("kalshi/events_pirodax.json")
    events[1]["markets"][0] = {k: v for k, v in events[1]["markets"][0].items() if k != "ticker"}
    events[1]["markets"][1]["yes_bid"] = "0.5x"
    events[2]["markets"][0]["close_time"] = 12.5e20
    events[3] = {"title": "event without a ticker", "markets": []}
    return events


def serve_kalshi(fake: FakeVenue, events: list[Any]) -> None:
    def handler(q: dict[str, str]) -> dict[str, Any]:
        start = int(q.get("cursor") or 0)
        n = int(q["limit"])
        return {
            "events": events[start : start + n],
            "cursor": str(start + n) if start + n < len(events) else "",
        }

    fake.route("/events", handler)


def test_malformed_records_are_counted_and_never_stop_the_run(
    engine: Engine, fake: FakeVenue, settings: Settings
) -> None:
    events = kalshi_events_with_bad_records()
    serve_kalshi(fake, events)
    s = svc.ingest(build_services(settings, db_url=url_of(engine)), "kalshi", base_url=fake.url, page_size=3)
    assert s.status == "ok"
    assert s.rejects == {
        "missing_field:ticker": 1,
        "bad_price:yes_bid": 1,
        "bad_time:close_time": 1,
        "missing_field:event_ticker": 1,
    }
    good = sum(len(e.get("markets", [])) for e in events) - 3
    c = counts(engine)
    assert c["markets"] == good and c["events"] == len(events) - 1 and c["quotes"] == 2 * good
    (run,) = svc.list_ingest_runs(build_services(db_url=url_of(engine)))
    assert run.rejected == 4 and run.rejects == s.rejects and run.status == "ok"
    with session_scope(engine) as ses:
        mk = ses.scalars(select(Market).where(Market.external_id == "KXNEWPOPE-70-MZUP")).one()
        assert (
            mk.extra == {"event_ticker": "KXNEWPOPE-70", "tick_size": "0.01"}
            and mk.event_external_id == "KXNEWPOPE-70"
        )


def test_failing_venue_is_a_failed_run_and_others_still_run(
    engine: Engine, fake: FakeVenue, settings: Settings
) -> None:
    fake.route("/events", [Reply(503, {})])
    fake.route("/all/", load("predictit/all.json"))
    url = url_of(engine)
    bad = svc.ingest(build_services(settings, db_url=url), "kalshi", base_url=fake.url)
    assert bad.status == "failed" and "TransientError" in bad.errors[0]
    ok = svc.ingest(build_services(settings, db_url=url), "predictit", base_url=fake.url)
    assert ok.status == "ok" and ok.tables["markets"]["inserted"] == 3
    assert [r.status for r in svc.list_ingest_runs(build_services(db_url=url))] == ["ok", "failed"]


def test_malformed_page_fails_run_then_resume_completes(
    engine: Engine, fake: FakeVenue, settings: Settings
) -> None:
    events = load("polymarket/events_pirodax.json")
    script = [Reply(200, b'[{"id": "1", "markets": [')]

    def handler(q: dict[str, str]) -> Any:
        off, n = int(q["offset"]), int(q["limit"])
        if off == 4 and script:
            return script.pop()
        return events[off : off + n]

    fake.route("/events", handler)
    url = url_of(engine)
    first = svc.ingest(
        build_services(settings, db_url=url), "polymarket", gamma_url=fake.url, clob_url=fake.url, page_size=4
    )
    assert first.status == "failed" and "malformed_json" in first.errors[0]
    with session_scope(engine) as s:
        assert s.scalars(select(IngestRun)).one().checkpoint["cursor"] == "4"
    n_first = counts(engine)["markets"]
    assert n_first == sum(len(e["markets"]) for e in events[:4])
    second = svc.ingest(
        build_services(settings, db_url=url), "polymarket", gamma_url=fake.url, clob_url=fake.url, page_size=4
    )
    assert second.status == "ok" and second.resumed_from == first.run_id
    assert counts(engine)["markets"] == sum(len(e["markets"]) for e in events)
    assert [int(q["offset"]) for q in fake.hits("/events")] == [0, 4, 4, 8]


def test_ccxt_bars_ingest_is_idempotent(engine: Engine, fake: FakeVenue, settings: Settings) -> None:
    from .test_clients import binance_routes

    klines = binance_routes(fake)
    kw = {
        "api_url": fake.url,
        "page_limit": 4,
        "options": {"fetchMarkets": {"types": ["spot"]}},
        "symbol": "BTC/USDT",
        "timeframe": "1m",
        "since": datetime.fromtimestamp(klines[0][0] / 1000, UTC),
    }
    url = url_of(engine)
    a = svc.ingest(build_services(settings, db_url=url), "ccxt:binance", **kw)
    b = svc.ingest(build_services(settings, db_url=url), "ccxt:binance", **kw)
    assert a.status == b.status == "ok" and a.tables["bars"]["inserted"] == 10
    assert b.tables["bars"] == {"inserted": 0, "updated": 0, "unchanged": 10} and counts(engine)["bars"] == 10
    assert svc.overview(build_services(db_url=url)).bar_series[0].bars == 10


def test_dashboard_queries(engine: Engine, small_pages: None) -> None:
    url = url_of(engine)
    svc.ingest(build_services(db_url=url), "replay", symbol="BTC/USDT", timeframe="1d")
    ov = svc.overview(build_services(db_url=url))
    by = {v.name: v for v in ov.venues}
    assert by["kalshi"].markets == 7114 and by["polymarket"].markets == 3732
    assert ov.markets == 10846 and ov.ingest_runs[0].status == "ok"
    found = svc.search_markets(build_services(db_url=url), "fed rate", venues=["kalshi"], limit=50)
    assert found and all(r.venue == "kalshi" and "fed" in r.question.lower() for r in found)
    with session_scope(engine) as s:
        mid = s.scalars(select(BookSnapshot.market_id).limit(1)).one()
        n_quotes = s.scalar(select(func.count()).select_from(QuoteRow).where(QuoteRow.market_id == mid))
    d = svc.market_detail(build_services(db_url=url), mid)
    assert d.source == "replay" and d.rules and {o.name for o in d.outcomes} == {"Yes", "No"}
    assert len(d.price_history) == n_quotes and d.book
    for book in d.book.values():
        assert all(size == 100.0 for _, size in book.bids + book.asks)
    with pytest.raises(Exception, match="no market"):
        svc.market_detail(build_services(db_url=url), 10**9)


def test_cli_ingest_prints_counts(tmp_path: Any, fake: FakeVenue, monkeypatch: pytest.MonkeyPatch) -> None:
    from oneprice.cli.main import app

    fake.route("/all/", load("predictit/all.json"))
    monkeypatch.setenv("ONEPRICE_PREDICTIT_URL", fake.url)
    monkeypatch.setenv("ONEPRICE_RATE_PREDICTIT", "1000")
    get_settings.cache_clear()
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    out = CliRunner().invoke(app, ["--db", db, "ingest", "--venue", "predictit"])
    assert out.exit_code == 0, out.output
    assert "fetched=3 inserted=" in out.output and "rejected=0" in out.output
    again = CliRunner().invoke(app, ["--db", db, "ingest", "--venue", "predictit"])
    assert "│ markets  │        0 │       0 │         3 │" in again.output
    fake.route("/all/", [Reply(500, {})])
    monkeypatch.setenv("ONEPRICE_HTTP_MAX_RETRIES", "0")
    get_settings.cache_clear()
    failed = CliRunner().invoke(app, ["--db", db, "ingest", "--venue", "predictit"])
    assert failed.exit_code == 1 and "TransientError" in failed.output


def test_a_run_whose_process_still_runs_is_not_resumed_concurrently(sqlite_engine: Engine) -> None:
    import socket
    import subprocess
    import sys

    url = url_of(sqlite_engine)
    params = {"limit": 50, "symbols": None, "timeframe": "1d", "since": None, "until": None}
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = {"host": socket.gethostname(), "pid": other.pid}
        with session_scope(sqlite_engine) as s:
            s.add(
                IngestRun(
                    source="replay", checkpoint={"params": params, "stream": 0, "cursor": "0", "owner": owner}
                )
            )
        busy = svc.ingest(build_services(db_url=url), "replay", limit=50, timeframe="1d")
        assert busy.status == "failed" and "still running" in busy.errors[0]
    finally:
        other.kill()
        other.wait()
    resumed = svc.ingest(build_services(db_url=url), "replay", limit=50, timeframe="1d")
    assert resumed.status == "ok" and resumed.resumed_from == 1
    assert counts(sqlite_engine)["markets"] == 50


def test_resumed_run_honours_the_limit_across_runs(
    engine: Engine, fake: FakeVenue, settings: Settings
) -> None:
    events = load("polymarket/events_pirodax.json")
    script = [Reply(200, b"{not json")]

    def handler(q: dict[str, str]) -> Any:
        off, n = int(q["offset"]), int(q["limit"])
        return script.pop() if off == 4 and script else events[off : off + n]

    fake.route("/events", handler)
    url = url_of(engine)
    limit = sum(len(e["markets"]) for e in events[:4]) + 3
    kw = {"gamma_url": fake.url, "clob_url": fake.url, "page_size": 4}
    first = svc.ingest(build_services(settings, db_url=url), "polymarket", limit=limit, **kw)
    assert first.status == "failed"
    second = svc.ingest(build_services(settings, db_url=url), "polymarket", limit=limit, **kw)
    assert second.status == "ok" and second.resumed_from == first.run_id
    assert second.tables["markets"]["inserted"] == 3 and counts(engine)["markets"] == limit
