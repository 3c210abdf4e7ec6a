"""``oneprice agents predict``: a row per window, unreadable ones ABSTAIN, signals for the backtester."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from oneprice.agents.callers import BackendCaller
from oneprice.cli.main import app
from oneprice.services import agents as svc_agents
from tests.agents.conftest import ScriptedBackend, good


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedBackend:
    be = ScriptedBackend([good("LONG"), good("SHORT"), "not json at all"])
    monkeypatch.setattr(svc_agents, "caller_for", lambda *a, **k: BackendCaller(be))
    return be


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_predict_writes_every_window_and_signals(
    tmp_path: Path, windows_dir: Path, manifest: Path, scripted: ScriptedBackend
) -> None:
    folder = tmp_path / "w"
    shutil.copytree(windows_dir, folder)
    (folder / "broken.csv").write_text("Datetime,Close\n")
    out = tmp_path / "out.csv"
    args = ["agents", "predict", "--windows", str(folder), "--manifest", str(manifest), "--out", str(out)]
    r = CliRunner().invoke(app, [*args, "--signals"])
    assert r.exit_code == 0, r.output
    rows = _rows(out)
    assert list(rows[0]) == ["window", "decision", "confidence", "stop", "target", "size", "justification"]
    assert len(rows) == 7 and {x["window"] for x in rows} >= {"broken", "SPX_4h_1"}
    by = {x["window"]: x for x in rows}
    assert by["broken"]["decision"] == "ABSTAIN" and "columns" in by["broken"]["justification"]
    assert [x["decision"] for x in rows if x["window"] != "broken"][:2] == ["LONG", "SHORT"]
    abstained = [x for x in rows if x["decision"] == "ABSTAIN"]
    assert all(x["size"] == "" for x in abstained)
    assert all(float(x["size"]) > 0 for x in rows if x["decision"] != "ABSTAIN")

    from oneprice.db.models_backtest import Signal
    from oneprice.services.container import build_services

    with build_services().session() as s:
        sig = s.scalars(select(Signal).where(Signal.source == "quantagent")).all()
    assert len(sig) == 6 and {x.key for x in sig} >= {"BTC/USD", "SPX", "VIX"}
    assert {x.value for x in sig} <= {1.0, -1.0, 0.0}

    # a rerun answers from the cache and rewrites the same rows and signals (idempotent)
    calls = len(scripted.seen)
    r = CliRunner().invoke(app, [*args, "--signals"])
    assert r.exit_code == 0 and len(scripted.seen) == calls
    assert _rows(out) == rows
    with build_services().session() as s:
        assert len(s.scalars(select(Signal)).all()) == 6


def test_rules_mode_needs_no_llm(tmp_path: Path, windows_dir: Path) -> None:
    out = tmp_path / "o.csv"
    r = CliRunner().invoke(
        app, ["agents", "predict", "--windows", str(windows_dir), "--out", str(out), "--rules"]
    )
    assert r.exit_code == 0, r.output
    assert all(x["decision"] in ("LONG", "SHORT", "ABSTAIN") for x in _rows(out)) and len(_rows(out)) == 6


def test_predict_makes_waiting_threads_passive_unless_the_user_chose(
    tmp_path: Path, windows_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["agents", "predict", "--windows", str(windows_dir), "--out", str(tmp_path / "o.csv"), "--rules"]
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert CliRunner().invoke(app, args).exit_code == 0
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    monkeypatch.delenv("OMP_WAIT_POLICY")
    assert CliRunner().invoke(app, args).exit_code == 0
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


def test_bad_folder_is_a_one_line_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["agents", "predict", "--windows", str(tmp_path / "nope"), "--out", "x.csv"])
    assert r.exit_code == 2 and "not a directory" in r.output


def test_agents_cli_module_imports_no_torch() -> None:
    code = (
        "import sys, typer; import oneprice.cli.agents as a; a.register(typer.Typer()); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_predict_signals_go_to_the_root_db_option(
    tmp_path: Path, windows_dir: Path, manifest: Path, scripted: ScriptedBackend
) -> None:
    """``oneprice --db URL agents predict --signals`` writes to URL, not to the environment's database."""
    url = f"sqlite:///{tmp_path / 'other.db'}"
    out = tmp_path / "out.csv"
    args = ["--db", url, "agents", "predict", "--windows", str(windows_dir), "--manifest", str(manifest)]
    r = CliRunner().invoke(app, [*args, "--out", str(out), "--signals"])
    assert r.exit_code == 0, r.output

    from oneprice.db.models_backtest import Signal
    from oneprice.services.container import build_services

    with build_services(db_url=url).session() as s:
        assert len(s.scalars(select(Signal).where(Signal.source == "quantagent")).all()) == 6
    with build_services().session() as s:
        assert s.scalars(select(Signal).where(Signal.source == "quantagent")).all() == []
