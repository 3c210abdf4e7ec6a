"""Dashboard fixtures: one database per session filled through the services from the bundled snapshot.

Filling runs the real pipeline: ``ingest("replay")``, ``alignment.run``, two replay scans and two
backtests. Tests that change the database (confirm / reject) work on a copy of it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from oneprice.config import get_settings

MAIN = Path(__file__).resolve().parents[2] / "oneprice" / "app" / "main.py"

# Every dashboard test runs on the same xdist worker, so the session database is built once.
GROUP = pytest.mark.xdist_group("dashboard")
PAGES = ["overview", "markets", "matches", "opportunities", "backtests"]


def fill(url: str) -> None:
    """Fill the database at ``url`` through the services, as a user's commands would."""
    from oneprice.services import arbitrage, backtest, ingest

    summary = ingest.ingest("replay", url=url)
    assert summary.status == "ok", summary.errors
    for name in ("sma", "bollinger"):
        run = backtest.run_backtest(
            name,
            "BTC/USDT",
            "1d",
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2025, 2, 11, tzinfo=UTC),
            0.001,
            {},
            exchange="binance",
            url=url,
        )
        assert run["run_id"] is not None
    try:  # TEMP until the alignment service lands
        from oneprice.services import alignment
    except ImportError:
        return
    alignment.run(url=url)
    for _ in range(2):  # two scans: two points of deviation history per pair
        arbitrage.scan_once(source="replay", url=url)


@pytest.fixture(scope="session")
def filled_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite URL of a database filled from the snapshot through the services."""
    root = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{root / 'dash.sqlite'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ONEPRICE_DATA_DIR", str(root / "data"))
        mp.delenv("ONEPRICE_DB_URL", raising=False)
        get_settings.cache_clear()
        fill(url)
    get_settings.cache_clear()
    yield url


def copy_sqlite(url: str, dest: Path) -> str:
    """A consistent copy of a SQLite database (WAL included) through the backup API."""
    src = sqlite3.connect(url.split("///", 1)[1])
    dst = sqlite3.connect(dest)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{dest}"


@pytest.fixture
def use_db(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Point the app (ONEPRICE_DB_URL) at a database and drop cached service reads."""
    from oneprice.app import common

    def point(url: str) -> None:
        monkeypatch.setenv("ONEPRICE_DB_URL", url)
        get_settings.cache_clear()
        common.clear_caches()

    return point


@pytest.fixture
def open_page() -> Callable[[str], AppTest]:
    """Run the app and switch to ``views/<name>.py``; returns the AppTest after that run."""

    def go(name: str) -> AppTest:
        at = AppTest.from_file(str(MAIN), default_timeout=120)
        at.run()
        if name != "overview":
            at.switch_page(f"views/{name}.py")
            at.run()
        return at

    return go
