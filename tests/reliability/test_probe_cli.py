"""Cases a CLI probe of bad inputs found: each bad input is one line on stderr with the
documented exit code (2 bad input, 3 not found), and the database is left as it was."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine

from oneprice.core.errors import InputError
from oneprice.services.signals import _write_frame
from tests.reliability.helpers import run_cli, snapshot


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_cli(["--db", url, "db", "upgrade"]).exit_code == 0
    return url


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["ingest", "--venue", "ccxt:binance", "--timeframe", "7q"], 2, "--timeframe"),
        (["ingest", "--venue", "ccxt:binance", "--timeframe", "0h"], 2, "--timeframe"),
        (["ingest", "--venue", "ccxt:binance", "--symbol", ""], 2, "--symbol"),
        (["ingest", "--venue", "ccxt:binance", "--symbol", "BTC/USDT,"], 2, "--symbol"),
        (["deviations", "--match", "999999"], 3, "no match with id 999999"),
        (["backtest", "report", "999999"], 3, "no backtest run 999999"),
    ],
)
def test_bad_input_is_one_line_and_touches_nothing(db: str, args: list[str], code: int, needle: str) -> None:
    engine = create_engine(db)
    before = snapshot(engine)
    result = run_cli(["--db", db, *args])
    err = result.stderr.strip()
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert len(err.splitlines()) == 1 and needle in err, err
    assert snapshot(engine) == before


def test_a_labels_file_not_utf8_is_a_usage_error(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(b"venue_a,id_a\n\xe9\xff,1\n")
    result = run_cli(["--db", db, "align", "eval", "--labels", str(bad)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "not UTF-8" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("name", ["out.xyz", "out"])
def test_an_output_of_unknown_kind_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="suffix"):
        _write_frame(pd.DataFrame({"a": [1]}), tmp_path / name)
    assert not (tmp_path / name).exists()


def test_an_unwritable_output_is_an_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write"):
        _write_frame(pd.DataFrame({"a": [1]}), blocker / "out.csv")


def test_a_missing_labels_file_setting_is_refused_before_any_work(db: str) -> None:
    result = run_cli(["--db", db, "align", "train"], ONEPRICE_ALIGN_LABELS="/nonexistent/labels.csv")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and "ONEPRICE_ALIGN_LABELS" in err, err


@pytest.mark.parametrize("args", [["--max-tokens", "-1"], ["--max-tokens", "0"], ["--top-p", "1.5"]])
def test_llm_generate_refuses_bad_sampling_values(args: list[str]) -> None:
    result = run_cli(["llm", "generate", "hi", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_llm_generate_names_a_model_that_cannot_be_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from oneprice.services import llm

    def missing(*_a: object, **_k: object) -> None:
        raise OSError("We couldn't connect to 'https://huggingface.co' to load the files.\nmore detail")

    monkeypatch.setattr(llm, "chat_backend", missing)
    result = run_cli(["llm", "generate", "hi", "--model", "nosuch"])
    err = result.stderr.strip()
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(err.splitlines()) == 1 and "'nosuch'" in err


@pytest.mark.parametrize("content", [b"x", b"name,price\nBTC,1\n", b"name,price\n" * 200])
def test_a_file_that_is_not_sqlite_is_refused_and_kept(tmp_path: Path, content: bytes) -> None:
    """SQLite takes a file shorter than a page for a new database and would write over it."""
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    result = run_cli(["--db", f"sqlite:///{path}", "db", "upgrade"])
    assert result.exit_code == 2 and "not a" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and path.read_bytes() == content
