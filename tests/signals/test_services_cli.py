"""PreBit and sentiment through the services and the CLI on a real database; the dashboard page."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from oneprice.cli.main import app
from oneprice.config import Settings, get_settings
from oneprice.db import session_scope
from oneprice.db.models_backtest import Signal
from oneprice.services import backtest as bt
from oneprice.services import signals
from oneprice.services.container import build_services

runner = CliRunner()
MAIN = Path(__file__).resolve().parents[2] / "oneprice" / "app" / "main.py"


def _count(svc, source: str) -> int:
    with session_scope(svc.engine) as s:
        return s.scalar(select(func.count()).select_from(Signal).where(Signal.source == source)) or 0


@pytest.fixture
def built(tmp_path: Path, data_dir: Path):
    svc = build_services(Settings())
    out = tmp_path / "ds.parquet"
    rep = signals.prebit_build(
        svc,
        out,
        data_dir / "BTC-USD.csv",
        {"gold": data_dir / "GC_F.csv", "spy": data_dir / "SPY.csv"},
        data_dir / "btc_tweets_slice.csv.gz",
    )
    return svc, out, rep


def test_build_writes_the_dataset_and_daily_sentiment_once(built, data_dir: Path, tmp_path: Path):
    svc, out, rep = built
    assert rep.first == "2017-09-21" and rep.rows == len(pd.read_parquet(out))
    assert rep.sentiment_signals_written == _count(svc, "sentiment") > 150
    again = signals.prebit_build(
        svc,
        tmp_path / "again.parquet",
        data_dir / "BTC-USD.csv",
        {"gold": data_dir / "GC_F.csv", "spy": data_dir / "SPY.csv"},
        data_dir / "btc_tweets_slice.csv.gz",
    )
    assert again.sentiment_signals_written == 0  # idempotent rerun


def test_eval_writes_probabilities_the_signal_strategy_can_trade(built, tmp_path: Path, data_dir: Path):
    svc, out, _ = built
    rep = signals.prebit_eval(svc, out, train_days=60, step=30, write_db=True)
    assert rep.signals_written is not None and rep.oos_days == rep.signals_written // 3
    assert set(rep.auc["up"]) == {"ta_only", "text_only", "fusion", "placebo"}
    assert set(rep.trading.baselines) == {"buy_hold", "sma_10_50"} and rep.trading.rules
    assert signals.prebit_eval(svc, out, train_days=60, step=30, write_db=True).signals_written == 0
    # the backtester's signal strategy reads them straight from the table
    csv = tmp_path / "btc.csv"
    pd.read_csv(data_dir / "BTC-USD.csv").to_csv(csv, index=False)
    run = bt.run_backtest(
        svc,
        "signal",
        "BTC/USD",
        "1d",
        rep.oos_span[0],
        rep.oos_span[1],
        0.001,
        {"entry": 0.05, "exit": 0.05},
        csv=csv,
        signal_source="prebit_hold",
    )
    assert run.metrics["bars"] == rep.oos_days
    back = signals.rule_backtest(svc, "BTC/USD", "risk_off", 0.95, 0.001)
    assert back.runs["risk_off 0.95"].metrics["total_return"] == pytest.approx(
        rep.trading.rules["risk_off"]["0.95"].total_return, abs=1e-4
    )


def test_cli_build_train_predict(tmp_path: Path, data_dir: Path):
    ds, model = tmp_path / "ds.parquet", tmp_path / "m.joblib"
    res = runner.invoke(
        app,
        [
            "signals",
            "prebit",
            "build",
            "--out",
            str(ds),
            "--btc",
            str(data_dir / "BTC-USD.csv"),
            "--asset",
            f"gold={data_dir / 'GC_F.csv'}",
            "--tweets",
            str(data_dir / "btc_tweets_slice.csv.gz"),
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["signals", "prebit", "train", "--data", str(ds), "--out", str(model), "--train-days", "120"]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        [
            "signals",
            "prebit",
            "predict",
            "--data",
            str(ds),
            "--model",
            str(model),
            "--last",
            "5",
            "--out",
            str(tmp_path / "p.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    p = pd.read_csv(tmp_path / "p.csv")
    assert len(p) == 5 and p[["p_up", "p_down"]].stack().between(0, 1).all()
    assert json.loads(res.output)["signals_written"] == 15
    res = runner.invoke(app, ["signals", "list"])
    assert "prebit_up" in res.output and "sentiment" in res.output


def test_cli_eval_json(built):
    _, out, _ = built
    res = runner.invoke(
        app, ["signals", "prebit", "eval", "--data", str(out), "--train-days", "90", "--json"]
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert rep["folds"] >= 2 and "0.95" in rep["trading"]["rules"]["risk_off"]


@pytest.mark.parametrize(
    "args",
    [
        ["build", "--out", "x.parquet", "--btc", "missing.csv"],
        ["predict", "--data", "missing.parquet", "--model", "missing.joblib"],
        ["eval", "--data", "missing.parquet"],
    ],
)
def test_cli_errors_are_one_line(tmp_path: Path, args: list[str]):
    res = runner.invoke(app, ["signals", "prebit", *args])
    assert res.exit_code == 3 and "error:" in res.output and "Traceback" not in res.output  # not found


def test_dashboard_signals_page(built, monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("streamlit")  # the `dashboard` extra
    from streamlit.testing.v1 import AppTest

    from oneprice.app import common

    svc, out, _ = built
    signals.prebit_eval(svc, out, train_days=60, step=30, write_db=True)
    monkeypatch.setenv("ONEPRICE_DB_URL", svc.settings.resolved_db_url)
    get_settings.cache_clear()
    common.clear_caches()
    at = AppTest.from_file(str(MAIN), default_timeout=120)
    at.run()
    at.switch_page("views/signals.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 3  # sentiment vs price, probabilities, the rule's equity
    table = at.dataframe[0].value
    assert list(table["strategy"]) == ["risk_off 0.95", "buy_hold", "sma_10_50"]
