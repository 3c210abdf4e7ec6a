"""Services and CLI on a real database: runs persisted, reports written, clear errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from oneprice.backtest import Bars
from oneprice.cli.main import app
from oneprice.services import backtest as svc
from oneprice.services.container import build_services

from .conftest import insert_bars


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_run_list_get_on_both_backends(engine: Engine, btc: Bars):
    insert_bars(engine, btc)
    url = _url(engine)
    out = svc.run_backtest(
        build_services(db_url=url),
        "sma",
        "BTC/USDT",
        "1h",
        "2023-01-01",
        "2023-02-15",
        0.001,
        {"fast": 10, "slow": 50},
    )
    m = out.metrics
    assert m["trade_count"] > 0 and m["fees_paid"] > 0
    for k in (
        "total_return",
        "annual_return",
        "volatility",
        "sharpe",
        "sortino",
        "max_drawdown",
        "max_drawdown_days",
        "calmar",
        "win_rate",
        "profit_factor",
        "exposure",
        "turnover",
        "benchmark_total_return",
        "excess_return",
        "beta",
    ):
        assert k in m
    runs = svc.list_runs(build_services(db_url=url))
    assert runs[0].run_id == out.run_id and runs[0].params == {"fast": 10, "slow": 50, "short": 0}
    got = svc.get_run(build_services(db_url=url), out.run_id)
    assert len(got.equity) == len(got.drawdown) == len(got.prices) > 1000
    assert got.equity[-1].value == pytest.approx(m["final_equity"])
    assert len(got.trades) == m["trade_count"]
    names = {s.name for s in svc.list_strategies()}
    assert "sma" in names and "convergence" in names


def test_cli_run_report_and_errors(sqlite_engine: Engine, btc: Bars, tmp_path: Path, monkeypatch):
    insert_bars(sqlite_engine, btc)
    monkeypatch.setenv("ONEPRICE_DB_URL", _url(sqlite_engine))
    from oneprice.config import get_settings

    get_settings.cache_clear()
    cli = CliRunner()
    base = ["backtest", "run", "--symbol", "BTC/USDT", "--timeframe", "1h", "--fee", "0.001"]
    r = cli.invoke(
        app,
        [
            *base,
            "--strategy",
            "sma",
            "--start",
            "2023-01-01",
            "--end",
            "2023-03-01",
            "--param",
            "fast=10",
            "--param",
            "slow=50",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    run_id = json.loads(r.output)["run_id"]
    r = cli.invoke(app, ["backtest", "report", str(run_id), "--out", str(tmp_path), "--cdn"])
    assert r.exit_code == 0, r.output
    page = (tmp_path / f"run_{run_id}.html").read_text()
    assert "plotly" in page.lower() and "Drawdown" in page and "entry" in page
    assert json.loads((tmp_path / f"run_{run_id}.json").read_text())["metrics"]["trade_count"] > 0

    cases = [
        (
            ["--strategy", "nope"],
            2,
            "unknown strategy 'nope'; available: bollinger, buy_hold, rsi, signal, sma",
        ),
        (["--strategy", "sma", "--symbol", "DOGE/USDT"], 3, "available: binance:BTC/USDT 1h"),  # not found
        (["--strategy", "sma", "--start", "2019-01-01", "--end", "2019-02-01"], 3, "stored: 2000 bars from"),
        (["--strategy", "sma", "--param", "fast=80"], 2, "fast must be < slow"),
    ]
    for extra, code, msg in cases:
        r = cli.invoke(app, [*base, *extra])
        assert r.exit_code == code, r.output
        assert msg in " ".join(r.output.split()), r.output
        assert "Traceback" not in r.output
    r = cli.invoke(app, ["backtest", "report", "12345"])
    assert r.exit_code == 3 and "no backtest run 12345" in r.output


def test_cli_csv_and_sweep(tmp_path: Path, btc: Bars):
    csv = tmp_path / "bars.csv"
    btc.frame().rename_axis("ts").to_csv(csv)
    cli = CliRunner()
    r = cli.invoke(app, ["backtest", "run", "--strategy", "rsi", "--csv", str(csv), "--json"])
    assert r.exit_code == 0, r.output
    pq = tmp_path / "bars.parquet"
    btc.frame().rename_axis("ts").reset_index().to_parquet(pq)
    r2 = cli.invoke(app, ["backtest", "run", "--strategy", "rsi", "--csv", str(pq), "--json"])
    assert r2.exit_code == 0, r2.output
    assert json.loads(r2.output)["metrics"] == json.loads(r.output)["metrics"]
    r = cli.invoke(
        app,
        [
            "backtest",
            "sweep",
            "--strategy",
            "sma",
            "--csv",
            str(csv),
            "--grid",
            "fast=5:15:5",
            "--grid",
            "slow=10,40",
            "--workers",
            "1",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "4 combinations (2 invalid skipped)" in r.output


def test_cli_walkforward(tmp_path: Path, btc: Bars):
    csv = tmp_path / "bars.csv"
    btc.frame().rename_axis("ts").to_csv(csv)
    r = CliRunner().invoke(
        app,
        [
            "backtest",
            "walkforward",
            "--strategy",
            "sma",
            "--csv",
            str(csv),
            "--grid",
            "fast=5,10",
            "--grid",
            "slow=30,60",
            "--train",
            "800",
            "--test",
            "400",
            "--workers",
            "1",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "out-of-sample return" in r.output and r.output.count("fast") == 3
