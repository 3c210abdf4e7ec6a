"""Cross-venue convergence over a matched pair stored in the database (quotes + matches tables)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from oneprice.backtest.convergence import complete_sets, load_pair, run_convergence
from oneprice.db import Market, Match, QuoteRow, Venue, session_scope
from oneprice.services import backtest as svc
from oneprice.services.container import build_services

D = Decimal
T0 = datetime(2025, 2, 11, 12, tzinfo=UTC)


def make_pair(engine: Engine, result: str | None = "yes", relation: str = "equivalent") -> int:
    """Kalshi A and Polymarket B on the same event; B's YES is cheap for 3 hours, then the gap closes."""
    omap = {"Yes": "Yes", "No": "No"} if relation == "equivalent" else {"Yes": "No", "No": "Yes"}
    with session_scope(engine) as s:
        s.add_all([Venue(name="kalshi"), Venue(name="polymarket")])
        s.flush()
        a = Market(
            venue="kalshi",
            external_id="KXFED-25MAR-T4.50",
            question="Fed above 4.5%?",
            close_time=T0 + timedelta(hours=6),
            extra={"result": result} if result else {},
        )
        b = Market(
            venue="polymarket",
            external_id="0xabc",
            question="Fed above 4.5% in March?",
            close_time=T0 + timedelta(hours=6),
            extra={"fee_rate": None},
        )
        s.add_all([a, b])
        s.flush()
        s.add(
            Match(market_a_id=a.id, market_b_id=b.id, relation=relation, outcome_map=omap, status="confirmed")
        )
        b_yes = "Yes" if relation == "equivalent" else "No"
        b_no = "No" if relation == "equivalent" else "Yes"
        # hour: (A yes bid/ask, A no bid/ask, B "yes-equivalent" bid/ask, B "no-equivalent" bid/ask)
        book = [
            ((0.60, 0.62), (0.37, 0.39), (0.58, 0.60), (0.39, 0.41)),  # no edge: 0.62 + 0.41 > 1
            ((0.60, 0.62), (0.37, 0.38), (0.50, 0.52), (0.47, 0.49)),  # A:No 0.38 + B:Yes 0.52 = 0.90
            ((0.61, 0.63), (0.36, 0.38), (0.55, 0.57), (0.42, 0.44)),
            ((0.70, 0.71), (0.28, 0.29), (0.71, 0.72), (0.27, 0.28)),  # converged: bids 0.28 + 0.71 = 0.99
        ]
        for h, (ay, an, by, bn) in enumerate(book):
            ts = T0 + timedelta(hours=h)
            for mid, out, (bid, ask) in (
                (a.id, "Yes", ay),
                (a.id, "No", an),
                (b.id, b_yes, by),
                (b.id, b_no, bn),
            ):
                s.add(
                    QuoteRow(
                        market_id=mid,
                        outcome=out,
                        ts=ts,
                        bid=D(str(bid)),
                        ask=D(str(ask)),
                        bid_size=D(500),
                        ask_size=D(300),
                    )
                )
        s.flush()
        return int(s.query(Match.id).one()[0])


def test_complete_sets_follow_the_outcome_map_convention():
    assert complete_sets("equivalent", {"Yes": "Yes", "No": "No"}) == [("A:Yes", "B:No"), ("A:No", "B:Yes")]
    assert complete_sets("inverse", {"Yes": "No", "No": "Yes"}) == [("A:Yes", "B:Yes"), ("A:No", "B:No")]
    assert complete_sets("equivalent", {}) == [("A:Yes", "B:No"), ("A:No", "B:Yes")]  # the relation's map
    assert complete_sets("a_implies_b", {"Yes": "Yes"}) == []  # a bound, not a pair to converge


@pytest.mark.parametrize("relation", ["equivalent", "inverse"])
def test_held_to_settlement_pays_exactly_one_per_set(engine: Engine, relation: str):
    mid = make_pair(engine, result="yes", relation=relation)
    pair = load_pair(engine, mid)
    r = run_convergence(pair, {"threshold": 0.05, "contracts": 200, "hold": 1}, D(1000))
    legs = r.trades.sort_values("instrument")
    assert list(legs["status"]) == ["settled", "settled"]
    assert legs["size"].tolist() == [D(200), D(200)]
    a_no, b_leg = legs.iloc[0], legs.iloc[1]
    assert a_no["entry_price"] == D("0.38") and b_leg["entry_price"] == D("0.52")
    # A resolved Yes: A:No pays 0, B's matching YES leg pays 1; Kalshi fee on A, none on Polymarket
    kalshi_fee = pair.legs["A:No"].cost.fee_for(D(200), D("0.38"))
    assert kalshi_fee == D("3.30")  # 0.07 x 200 x 0.38 x 0.62 = 3.2984, rounded up to the cent
    expected = D(1000) - 200 * D("0.38") - 200 * D("0.52") - kalshi_fee + 200 * D(1)
    assert r.meta["final_cash"] == expected
    assert r.meta["final_cash"] - D(1000) == sum(legs["pnl"])


def test_exit_when_the_gap_closes(engine: Engine):
    pair = load_pair(engine, make_pair(engine, result=None))
    assert pair.settle_at is None  # resolution unknown: no settlement, exit on convergence
    r = run_convergence(pair, {"threshold": 0.05, "contracts": 100, "hold": 0, "exit_gap": 0.05}, D(1000))
    assert set(r.trades["status"]) == {"closed"}
    assert r.trades["exit_time"].iloc[0] == T0 + timedelta(hours=3)
    assert r.meta["final_cash"] > D(1000)


def test_service_runs_and_persists_the_pair(engine: Engine, tmp_path):
    mid = make_pair(engine)
    url = engine.url.render_as_string(hide_password=False)
    out = svc.run_backtest(
        build_services(db_url=url), "convergence", f"match:{mid}", fee=0.0, params={"threshold": 0.05}
    )
    assert out.run_id and out.metrics["trade_count"] == 2
    run = svc.get_run(build_services(db_url=url), out.run_id)
    assert run.kind == "pair" and run.symbol == f"match:{mid}" and len(run.trades) == 2
    assert run.trades[0]["status"] == "settled" and run.metrics["final_equity"] > 1000
    paths = svc.report(build_services(db_url=url), out.run_id, tmp_path, cdn=True)
    assert "best executable edge per contract" in Path(paths.html).read_text()


def test_unknown_match_names_what_exists(engine: Engine):
    make_pair(engine)
    with pytest.raises(Exception, match="no match 999; first stored match ids"):
        load_pair(engine, 999)
