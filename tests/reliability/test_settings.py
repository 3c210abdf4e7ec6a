"""Bad settings and database URLs: one line, exit code 2, nothing written."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from oneprice.config import Settings, get_settings
from oneprice.core.errors import ConfigError
from tests.reliability.helpers import assert_one_line_error, run_cli

BAD = [
    ("ONEPRICE_LOG_LEVEL", "verbose", "'DEBUG', 'INFO'"),
    ("ONEPRICE_RATE_KALSHI", "0", "greater than 0"),
    ("ONEPRICE_RATE_POLYMARKET", "-3", "greater than 0"),
    ("ONEPRICE_HTTP_MAX_RETRIES", "-1", "greater than or equal to 0"),
    ("ONEPRICE_ARB_TARGET_SIZE", "-5", "greater than or equal to 1"),
    ("ONEPRICE_ARB_MISMATCH_LOSS", "nan", "finite"),
    ("ONEPRICE_ARB_ALERT_CHANGE", "nan", "finite"),
    ("ONEPRICE_ARB_ALERT_MIN_EDGE", "inf", "finite"),
    ("ONEPRICE_INGEST_PAGE_SIZE", "0", "greater than or equal to 1"),
    ("ONEPRICE_LLM_DTYPE", "float8", "'fp32'"),
    ("ONEPRICE_ARB_ALERT_SINKS", "console,sms", "allowed: console, jsonl, webhook"),
    ("ONEPRICE_DASHBOARD_PORT", "70000", "less than or equal to 65535"),
    ("ONEPRICE_KALSHI_URL", "notaurl", "not an http(s) URL"),
    ("ONEPRICE_LLM_BASE_URL", "127.0.0.1:8000/v1", "not an http(s) URL"),
    ("ONEPRICE_DATA_DIR", "/etc/hostname", "is a file, not a directory"),
    ("ONEPRICE_ARB_ALERT_JSONL", "/tmp", "is a directory, not a file"),
    ("ONEPRICE_ARB_ALERT_SINKS", "console,webhook", "ONEPRICE_WEBHOOK_URL is not set"),
]


@pytest.mark.parametrize(("var", "value", "allowed"), BAD)
def test_a_bad_setting_is_one_line_naming_what_is_allowed(
    var: str, value: str, allowed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(var, value)
    get_settings.cache_clear()
    with pytest.raises(ConfigError) as exc:
        Settings()
    msg = str(exc.value)
    assert "\n" not in msg and var in msg and allowed in msg


@pytest.mark.parametrize(("var", "value", "allowed"), BAD[:6])
def test_the_cli_refuses_a_bad_setting_with_exit_2_and_writes_nothing(
    var: str, value: str, allowed: str, tmp_path: Path
) -> None:
    db = tmp_path / "x.db"
    res = run_cli(["--db", f"sqlite:///{db}", "db", "upgrade"], **{var: value})
    assert_one_line_error(res, var, allowed)
    assert not db.exists()


def test_good_values_still_load() -> None:
    s = Settings(log_level="debug", arb_alert_sinks="console, jsonl")
    assert s.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("notaurl", "not a database URL"),
        ("mysql://u@h/db", "unsupported database"),
        ("foo://x", "unsupported"),
    ],
)
def test_a_bad_database_url_is_one_line(url: str, needle: str) -> None:
    assert_one_line_error(run_cli(["--db", url, "db", "upgrade"]), needle)


def test_db_upgrade_refuses_another_applications_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "theirs.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
        conn.execute("INSERT INTO customers VALUES (1, 'Ada')")
    before = path.read_bytes()
    assert_one_line_error(run_cli(["--db", f"sqlite:///{path}", "db", "upgrade"]), "customers")
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert tables == ["customers"]
    assert path.read_bytes() == before


def test_db_upgrade_still_migrates_a_new_file_and_our_own_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ours.db'}"
    assert run_cli(["--db", url, "db", "upgrade"]).exit_code == 0
    assert run_cli(["--db", url, "db", "upgrade"]).exit_code == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("target_size", Decimal(-5)), ("target_size", Decimal(0)), ("mismatch_loss", Decimal("NaN"))],
)
def test_scan_parameters_that_would_price_nothing_are_refused(field: str, value: Decimal) -> None:
    from oneprice.arbitrage.detect import Params
    from oneprice.core.errors import InputError

    with pytest.raises(InputError, match=field.replace("_", " ")):
        Params(**{field: value})
