"""``oneprice scan`` and ``oneprice deviations`` on the bundled snapshot (replay) and the printer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import typer
from sqlalchemy import Engine
from typer.testing import CliRunner

from oneprice.cli.arbitrage import parse_every, reason_counts
from oneprice.db import models as m
from oneprice.db import session_scope

from .conftest import db_url

# A real pair of the 2025 snapshot: "Will the NDP get 2nd in the Canadian federal election?"
KALSHI = "KXCAN2ND-25-NDP"
POLY = "0xe36b2294a52e0d9c2f0ff6eb3973a52ba4d20e96d180a082efaeb9d31db47830"


def _app() -> typer.Typer:
    from oneprice.cli.main import app

    return app


def _snapshot_pair(engine: Engine) -> int:
    with session_scope(engine) as s:
        s.add_all([m.Venue(name="kalshi"), m.Venue(name="polymarket")])
        s.flush()
        a = m.Market(
            venue="kalshi",
            external_id=KALSHI,
            question="Will NDP get 2nd?",
            extra={"tick_size": "0.01"},
            close_time=datetime(2026, 10, 20, 14, tzinfo=UTC),
        )
        b = m.Market(
            venue="polymarket",
            external_id=POLY,
            question="Will the NDP finish second?",
            close_time=datetime(2025, 10, 20, tzinfo=UTC),
            extra={"tick_size": "0.01", "fee_rate": None, "neg_risk_augmented": False},
        )
        s.add_all([a, b])
        s.flush()
        s.add(
            m.Match(
                market_a_id=a.id,
                market_b_id=b.id,
                relation="equivalent",
                outcome_map={"Yes": "Yes", "No": "No"},
                status="confirmed",
                confidence=0.97,
            )
        )
        s.flush()
        return a.id


def test_scan_once_replay_prints_hand_checked_opportunity(engine: Engine) -> None:
    _snapshot_pair(engine)
    res = CliRunner().invoke(_app(), ["--db", db_url(engine), "scan", "--once", "--source", "replay"])
    assert res.exit_code == 0, res.output
    # recorded asks: Kalshi NO 0.87, Polymarket YES 0.005 -> 0.01 at the 0.01 tick; cost 88.00 per 100,
    # Kalshi fee ceil(0.07 x 100 x 0.87 x 0.13 = 0.7917) = 0.80 -> profit 11.20, edge 0.1120/contract
    assert "1 opportunities" in res.output and "K:No@0.870" in res.output and "PM:Yes@0.010" in res.output
    assert "0.1120" in res.output and "11.20" in res.output and "0.80" in res.output
    # return 11.20 / 88.80 over 624 days from the recording (2025-02-03) to the later close: 7.4%/year
    assert "7.4%" in res.output
    dev = CliRunner().invoke(_app(), ["--db", db_url(engine), "deviations"])
    assert dev.exit_code == 0 and "kalshi-polymarket" in dev.output


def test_scan_size_override(engine: Engine) -> None:
    _snapshot_pair(engine)
    args = ["--db", db_url(engine), "scan", "--once", "--source", "replay", "--size", "50"]
    res = CliRunner().invoke(_app(), args)
    assert res.exit_code == 0, res.output
    # 50 sets: cost 44.00, Kalshi fee ceil(0.39585) = 0.40 -> profit 5.60, edge 0.1120
    assert "5.60" in res.output and "0.40" in res.output


def test_scan_every_runs_on_schedule(engine: Engine) -> None:
    _snapshot_pair(engine)
    res = CliRunner().invoke(
        _app(), ["--db", db_url(engine), "scan", "--every", "0.01s", "--runs", "2", "--source", "replay"]
    )
    assert res.exit_code == 0, res.output
    assert res.output.count("scan run") == 2


def test_scan_needs_once_or_every() -> None:
    res = CliRunner().invoke(_app(), ["scan"])
    assert res.exit_code != 0


def test_parse_every() -> None:
    assert parse_every("60s") == 60 and parse_every("5m") == 300 and parse_every("1h") == 3600
    assert parse_every("90") == 90
    with pytest.raises(typer.BadParameter):
        parse_every("soon")


def test_reason_counts() -> None:
    from types import SimpleNamespace

    rows = [SimpleNamespace(excluded_reason=r) for r in ("closed: x", "stale_book: y", "closed: z")]
    assert reason_counts(rows) == {"closed": 2, "stale_book": 1}
