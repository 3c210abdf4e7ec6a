import logging

import pytest

from oneprice.config import Settings, get_settings
from oneprice.log import RedactSecrets


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("ONEPRICE_DB_URL", "postgresql://u@h/db")
    monkeypatch.setenv("ONEPRICE_KALSHI_API_KEY", "supersecretvalue123")
    get_settings.cache_clear()
    s = get_settings()
    assert s.resolved_db_url == "postgresql://u@h/db"
    assert "supersecretvalue123" not in repr(s)
    assert s.kalshi_api_key is not None and s.kalshi_api_key.get_secret_value() == "supersecretvalue123"


def test_default_db_is_sqlite_in_data_dir(tmp_path) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.resolved_db_url == f"sqlite:///{tmp_path / 'oneprice.sqlite'}"


def test_log_filter_masks_credentials() -> None:
    rec = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "GET /x?api_key=%s token: abc.def", ("s3cr3tvalue",), None
    )
    RedactSecrets().filter(rec)
    msg = rec.getMessage()
    assert "s3cr3tvalue" not in msg and "abc.def" not in msg and "api_key=***" in msg
