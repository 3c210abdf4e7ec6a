"""Scan pipeline end to end on both database backends, with fake venue clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from oneprice.arbitrage.alerts import ConsoleSink, JsonlSink
from oneprice.db import BookSnapshot, QuoteRow, session_scope
from oneprice.db.models_arbitrage import ArbAlert, ArbDeviation, ArbOpportunity, ArbScanRun
from oneprice.services import arbitrage as svc
from oneprice.services.container import build_services

from .conftest import FakeVenue, add_pair, db_url, fresh_books


def _setup(engine: Engine) -> tuple[dict[str, FakeVenue], dict[str, int]]:
    ids = {
        "arb": add_pair(engine, "KX-ARB", "0xarb"),  # K:Yes 0.40 + P:No 0.52 = 0.92 -> edge
        "fair": add_pair(engine, "KX-FAIR", "0xfair"),
        "negrisk": add_pair(engine, "KX-NR", "0xnr", extra_b={"neg_risk_augmented": True}),
        "lowconf": add_pair(engine, "KX-LOW", "0xlow", status="proposed", confidence=0.3),
        "bound": add_pair(engine, "KX-IMP", "0ximp", relation="a_implies_b"),
    }
    kalshi = FakeVenue(
        {
            "KX-ARB": fresh_books("kalshi", "KX-ARB", "0.40", "0.62"),
            "KX-FAIR": fresh_books("kalshi", "KX-FAIR", "0.50", "0.52"),
            "KX-NR": fresh_books("kalshi", "KX-NR", "0.30", "0.72"),
            "KX-LOW": fresh_books("kalshi", "KX-LOW", "0.30", "0.72"),
            "KX-IMP": fresh_books("kalshi", "KX-IMP", "0.61", "0.42"),
        }
    )
    poly = FakeVenue(
        {
            "0xarb": fresh_books("polymarket", "0xarb", "0.45", "0.52"),
            "0xfair": fresh_books("polymarket", "0xfair", "0.49", "0.53"),
            "0xnr": fresh_books("polymarket", "0xnr", "0.50", "0.50"),
            "0xlow": fresh_books("polymarket", "0xlow", "0.50", "0.50"),
            "0ximp": fresh_books("polymarket", "0ximp", "0.51", "0.52"),
        }
    )
    return {"kalshi": kalshi, "polymarket": poly}, ids


def test_scan_detects_persists_and_alerts_once(engine: Engine, tmp_path: Path) -> None:
    clients, ids = _setup(engine)
    lines: list[str] = []
    sinks: list[Any] = [ConsoleSink(lines.append), JsonlSink(tmp_path / "alerts.jsonl")]
    res = svc.scan_once(build_services(db_url=db_url(engine)), "live", clients=clients, sinks=sinks)
    assert res.status == "ok" and res.pairs == 4  # the low-confidence proposal is not scanned
    found = {o.match_id: o for o in res.opportunities}
    assert set(found) == {ids["arb"], ids["bound"]}
    assert found[ids["arb"]].kind == "equivalence" and found[ids["bound"]].kind == "bound"
    excluded = {e.match_id: e.excluded_reason for e in res.excluded}
    assert excluded[ids["negrisk"]].startswith("neg_risk_augmented")
    assert res.no_edge == 1 and res.alerts == 2 and len(lines) == 2
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 2
    # the same books again: persisted as a second run, no alert repeated
    res2 = svc.scan_once(build_services(db_url=db_url(engine)), "live", clients=clients, sinks=sinks)
    assert res2.alerts == 0 and len(lines) == 2
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(ArbScanRun)) == 2
        assert s.scalar(select(func.count()).select_from(ArbOpportunity)) == 8
        assert s.scalar(select(func.count()).select_from(ArbAlert)) == 2
        assert s.scalar(select(func.count()).select_from(ArbDeviation)) == 6
        # refreshed books and top-of-book quotes of the 8 scanned markets land in the shared tables,
        # idempotently: the fake venue served the same books (same timestamps) to both runs
        assert s.scalar(select(func.count()).select_from(BookSnapshot)) == 8 * 2
        assert s.scalar(select(func.count()).select_from(QuoteRow)) == 8 * 2
        row = s.scalars(select(ArbOpportunity).where(ArbOpportunity.match_id == ids["arb"])).first()
        assert row is not None and row.book_ts is not None and row.legs[0]["book_ts"]
    latest = svc.latest_opportunities(build_services(db_url=db_url(engine)))
    assert latest[0].match_id in found and latest[0].is_opportunity
    assert any(r.excluded_reason for r in latest)
    assert [
        r.match_id for r in svc.latest_opportunities(build_services(db_url=db_url(engine)), kind="bound")
    ] == [ids["bound"]]
    runs = svc.list_scan_runs(build_services(db_url=db_url(engine)))
    assert [r.opportunities for r in runs] == [2, 2] and runs[1].alerts == 2


def test_material_change_is_alerted_again(engine: Engine) -> None:
    clients, ids = _setup(engine)
    lines: list[str] = []
    svc.scan_once(
        build_services(db_url=db_url(engine)), "live", clients=clients, sinks=[ConsoleSink(lines.append)]
    )
    clients["polymarket"].books["0xarb"] = fresh_books("polymarket", "0xarb", "0.45", "0.50")  # 2c better
    res = svc.scan_once(
        build_services(db_url=db_url(engine)), "live", clients=clients, sinks=[ConsoleSink(lines.append)]
    )
    assert res.alerts == 1 and f"match {ids['arb']}" in lines[-1]


def test_failing_venue_is_reported_and_others_go_on(engine: Engine) -> None:
    clients, _ = _setup(engine)
    add_pair(engine, "KX-PI", "77:88", venues=("kalshi", "predictit"))
    clients["kalshi"].books["KX-PI"] = fresh_books("kalshi", "KX-PI", "0.40", "0.62")
    clients["predictit"] = FakeVenue({}, fail=True)
    res = svc.scan_once(build_services(db_url=db_url(engine)), "live", clients=clients, sinks=[])
    assert res.status == "partial"
    assert res.venue_errors["predictit"]["count"] == 1
    assert "TransientError" in res.venue_errors["predictit"]["errors"][0]
    assert len(res.opportunities) == 2  # the other venues' pairs are still priced
    reasons = [e.excluded_reason for e in res.excluded]
    assert any(r.startswith("missing_book: predictit") for r in reasons)
    run = svc.list_scan_runs(build_services(db_url=db_url(engine)))[0]
    assert run.status == "partial" and "predictit" in run.venue_errors


def test_stale_books_are_excluded_and_never_alerted(engine: Engine) -> None:
    from datetime import timedelta

    clients, ids = _setup(engine)
    old = [
        b.__class__(b.venue, b.market_id, b.outcome, b.ts - timedelta(hours=1), b.bids, b.asks)
        for b in clients["kalshi"].books["KX-ARB"]
    ]
    clients["kalshi"].books["KX-ARB"] = old
    lines: list[str] = []
    res = svc.scan_once(
        build_services(db_url=db_url(engine)), "live", clients=clients, sinks=[ConsoleSink(lines.append)]
    )
    excluded = {e.match_id: e.excluded_reason for e in res.excluded}
    assert excluded[ids["arb"]].startswith("stale_book")
    assert all(f"match {ids['arb']}" not in ln for ln in lines)


def test_deviation_history_and_summary(engine: Engine) -> None:
    clients, ids = _setup(engine)
    for _ in range(3):
        svc.scan_once(build_services(db_url=db_url(engine)), "live", clients=clients, sinks=[])
    hist = svc.deviation_history(build_services(db_url=db_url(engine)), ids["arb"])
    assert len(hist) == 3 and all(h.executable_edge > 0 for h in hist)
    summ = svc.deviation_summary(build_services(db_url=db_url(engine)))
    assert summ.overall.pairs == 3 and summ.overall.observations == 9
    # arb pair: |0.39 - 0.44| = 0.05 > 0.02 every time; bound pair 0.60 - 0.50 = 0.10; fair pair 0.01
    assert summ.overall.persistent_pairs == 2
    assert set(summ.by_venue_pair) == {"kalshi-polymarket"} and "Economics" in summ.by_category


def test_scan_rejects_unknown_source() -> None:
    with pytest.raises(ValueError):
        svc.scan_once(build_services(), "paper")


def test_jsonl_sink_writes_parsable_lines(tmp_path: Path) -> None:
    import asyncio

    sink = JsonlSink(tmp_path / "a" / "alerts.jsonl")
    asyncio.run(sink.send({"edge": "0.01", "legs": []}))
    assert json.loads((tmp_path / "a" / "alerts.jsonl").read_text())["edge"] == "0.01"


class BrokenSink:
    name = "webhook"

    async def send(self, alert: dict[str, Any]) -> None:
        raise RuntimeError("webhook answered HTTP 502")


def test_a_failing_sink_never_stops_the_others(engine: Engine) -> None:
    clients, _ = _setup(engine)
    lines: list[str] = []
    res = svc.scan_once(
        build_services(db_url=db_url(engine)),
        "live",
        clients=clients,
        sinks=[BrokenSink(), ConsoleSink(lines.append)],
    )
    assert res.alerts == 2 and len(lines) == 2
    with session_scope(engine) as s:
        sent = s.scalars(select(ArbAlert)).all()
        assert {a.sinks["console"] for a in sent} == {"ok"}
        assert all("HTTP 502" in a.sinks["webhook"] for a in sent)


def test_a_venue_down_is_skipped_after_consecutive_failures() -> None:
    import asyncio

    from oneprice.arbitrage.scan import fetch_books

    from .arb_helpers import market

    markets = {i: market("kalshi", f"KX-{i}") for i in range(20)}
    down = FakeVenue({}, fail=True)
    books, errors = asyncio.run(fetch_books(markets, {"kalshi": down}, concurrency=2, breaker=5))
    assert books == {} and errors["kalshi"]["count"] == 20
    assert down.calls <= 6  # five failures in a row (plus one already in flight), then the rest skipped
    assert (
        asyncio.run(fetch_books(markets, {"kalshi": FakeVenue({}, fail=True)}, 2, breaker=0))[1]["kalshi"][
            "count"
        ]
        == 20
    )
