"""The composition root, migrations once under a lock, and the CLI as a user meets it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from oneprice.cli.main import app
from oneprice.core.errors import ConfigError
from oneprice.db import engine as db_engine
from oneprice.db import make_engine, migrate, open_db
from oneprice.services import ingest
from oneprice.services.container import build_services

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEPRICE_")}
    return {**env, "PYTHONPATH": str(ROOT), "ONEPRICE_DATA_DIR": str(tmp_path / "data"), **extra}


def test_two_configurations_live_in_one_process(tmp_path: Path) -> None:
    a = build_services(db_url=f"sqlite:///{tmp_path / 'a.sqlite'}", data_dir=tmp_path / "a")
    b = build_services(
        db_url=f"sqlite:///{tmp_path / 'b.sqlite'}", data_dir=tmp_path / "b", ingest_page_size=7
    )
    try:
        run = ingest.ingest(a, "replay", limit=20, timeframe="1d")
        assert run.status == "ok" and run.inserted > 0
        assert [r.id for r in ingest.list_ingest_runs(a)] == [run.run_id]
        assert ingest.list_ingest_runs(b) == []  # the other configuration's database is untouched
        assert ingest.overview(b).markets == 0 and ingest.overview(a).markets == 20
        assert a.settings.ingest_page_size != b.settings.ingest_page_size
    finally:
        a.close()
        b.close()


def test_migrations_run_once_then_are_only_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    calls: list[str] = []
    real = db_engine.command.upgrade
    monkeypatch.setattr(db_engine.command, "upgrade", lambda cfg, rev: (calls.append(rev), real(cfg, rev)))
    first = open_db(url)
    assert calls == ["heads"] and db_engine.current(first) == db_engine.heads()
    first.dispose()
    for _ in range(3):
        open_db(url).dispose()
    assert calls == ["heads"]  # a current schema is never migrated again
    assert migrate(make_engine(url)) is False


def test_concurrent_first_use_migrates_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    errors: list[BaseException] = []

    def use() -> None:
        try:
            open_db(url).dispose()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = make_engine(url)
    assert db_engine.current(engine) == db_engine.heads()
    engine.dispose()


def test_another_applications_sqlite_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(ConfigError, match="holds other tables"):
        open_db(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    assert inspect(engine).get_table_names() == ["contacts"]
    engine.dispose()
    res = CliRunner().invoke(app, ["--db", f"sqlite:///{path}", "db", "upgrade"])
    assert res.exit_code == 2 and "holds other tables" in res.output and "Traceback" not in res.output


def test_db_option_is_read_wherever_it_stands() -> None:
    from oneprice.cli.main import db_first

    assert db_first(["db", "upgrade", "--db", "sqlite:///x"]) == ["--db", "sqlite:///x", "db", "upgrade"]
    assert db_first(["scan", "--db=u", "--once"]) == ["--db=u", "scan", "--once"]
    assert db_first(["llm", "generate", "--", "--db", "x"]) == ["llm", "generate", "--", "--db", "x"]


def test_db_upgrade_prints_no_info_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    cmd = [sys.executable, "-m", "oneprice", "db", "upgrade", "--db", url]  # as the issue writes it
    out = subprocess.run(cmd, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "INFO" not in out.stderr and "INFO" not in out.stdout, out.stderr
    assert "database upgraded" in out.stdout
    again = subprocess.run(cmd, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert "already current" in again.stdout and again.stderr == ""


@pytest.mark.parametrize("group", [[], ["db"], ["ingest"], ["align"], ["backtest"], ["llm"], ["scan"]])
def test_help_imports_no_torch_transformers_or_streamlit(tmp_path: Path, group: list[str]) -> None:
    code = (
        "import sys\nfrom oneprice.cli.main import app\n"
        "try:\n    app([*sys.argv[1:], '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'streamlit', 'sklearn') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *group], env=_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert "HEAVY []" in out.stdout, out.stdout[-500:] + out.stderr[-500:]


def test_version() -> None:
    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.startswith("oneprice ")


def _one_line_error(res: object, *needles: str) -> None:
    out = res.output  # type: ignore[attr-defined]
    assert res.exit_code == 2, out  # type: ignore[attr-defined]
    assert "Traceback" not in out
    text = " ".join(out.split())
    for n in needles:
        assert n in text, out


def test_bad_choices_are_one_line_errors_that_touch_nothing(tmp_path: Path) -> None:
    path = tmp_path / "never.sqlite"
    db = ["--db", f"sqlite:///{path}"]
    cases = [
        (["ingest", "--venue", "nasdaq"], ("unknown source 'nasdaq'", "kalshi", "replay")),
        (["ingest", "--venue", "ccxt:nowhere"], ("unknown source 'ccxt:nowhere'",)),
        (["ingest", "--venue", "replay", "--since", "yesterday"], ("expected an ISO date",)),
        (["ingest", "--venue", "replay", "--limit", "0"], ("--limit",)),
        (["scan", "--once", "--source", "nowhere"], ("'live', 'replay'",)),
        (["scan", "--every", "soon", "--source", "replay"], ("expected a period",)),
        (["align", "list", "--status", "maybe"], ("'proposed', 'confirmed', 'rejected'",)),
        (["backtest", "run", "--strategy", "sma", "--engine", "warp"], ("'vector', 'event'",)),
    ]
    for args, needles in cases:
        _one_line_error(CliRunner().invoke(app, [*db, *args]), *needles)
    assert not path.exists()  # no database was created, no failed run stored


def test_a_bad_database_url_is_a_one_line_error() -> None:
    for url in ("not a url", "mysql://u@h/x"):
        res = CliRunner().invoke(app, ["--db", url, "db", "upgrade"])
        _one_line_error(res, "--db")


def test_a_bad_setting_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ONEPRICE_LOG_LEVEL", "verbose")
    res = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'n.sqlite'}", "db", "upgrade"])
    _one_line_error(res, "bad setting")
    assert not (tmp_path / "n.sqlite").exists()


def test_not_found_has_its_own_exit_code(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["--db", f"sqlite:///{tmp_path / 'd.sqlite'}", "align", "decide", "7", "confirmed"]
    )
    assert res.exit_code == 3 and "no match with id 7" in res.output and "Traceback" not in res.output


def test_structure_counts_stay_at_their_floor() -> None:
    """No second copy of a domain function, no venue-name branch in shared code, and no service returning
    a dict but the dashboard's process environment (a str -> str mapping handed to the server process)."""
    import importlib.util

    path = ROOT / "scripts" / "structure_counts.py"
    spec = importlib.util.spec_from_file_location("structure_counts", path)
    assert spec is not None and spec.loader is not None
    counts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(counts)
    assert all(len(defs) <= 1 for defs in counts.domain_definitions(ROOT).values())
    assert counts.venue_branches(ROOT) == []
    assert counts.dict_services(ROOT) == ["oneprice/services/dashboard.py:dashboard_env -> dict[str, str]"]
