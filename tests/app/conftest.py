"""Dashboard fixtures: one database per session filled from the bundled snapshot.

Filling runs ``ingest("replay")``, writes the labeled cross-venue pairs as proposed matches, then two
replay scans and two backtests through the services. Tests that change the database work on a copy.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from oneprice.alignment.relations import outcome_map
from oneprice.config import get_settings
from oneprice.db import Market, Match, open_db, session_scope
from oneprice.db.upsert import upsert
from oneprice.services.container import build_services

MAIN = Path(__file__).resolve().parents[2] / "oneprice" / "app" / "main.py"

# Every dashboard test runs on the same xdist worker, so the session database is built once.
GROUP = pytest.mark.xdist_group("dashboard")
SNAPSHOT_MARKETS = 2500  # the snapshot lists its 1,757 quoted markets first, then 8,000+ more
PAGES = ["overview", "markets", "matches", "opportunities", "backtests"]


LABEL_CONFIDENCE = {"high": 0.92, "medium": 0.74, "low": 0.55}


def labeled_matches(url: str) -> list[dict[str, Any]]:
    """Match rows from the labeled cross-venue pairs shipped with alignment, for markets in ``url``.

    Real pairs and relations; the label's reason and facet agreement become the deciding facets.
    """
    raw = resources.files("oneprice.alignment").joinpath("data/labels.csv.gz").read_bytes()
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))
    with open_db(url).connect() as c:
        ids = {(v, x): i for i, v, x in c.execute(select(Market.id, Market.venue, Market.external_id))}
    out: list[dict[str, Any]] = []
    for r in rows:
        a = ids.get((r["venue_a"].lower().split("-")[0], r["id_a"]))
        b = ids.get((r["venue_b"].lower().split("-")[0], r["id_b"]))
        if a is None or b is None or a == b or r["relation"] == "unrelated":
            continue
        out.append(
            {
                "market_a_id": a,
                "market_b_id": b,
                "relation": r["relation"],
                "outcome_map": outcome_map(r["relation"]),
                "status": "proposed",
                "method": "labels",
                "confidence": LABEL_CONFIDENCE.get(r["confidence"], 0.5),
                "explanation": {
                    "reason": r["reason"],
                    "agreement": r["agreement"],
                    "label_source": r["source"],
                    "label_confidence": r["confidence"],
                },
                "model_version": "labels-v1",
            }
        )
    return out


def fill(url: str) -> None:
    """Fill the database at ``url`` as a user's commands would: snapshot ingest, matches, scans, backtests.

    Matches are the shipped labeled pairs written with ``upsert`` rather than ``alignment.run``: the
    model's training and embedding of every market take many minutes on a loaded 2-core machine.
    """
    from oneprice.services import arbitrage, backtest, ingest

    summary = ingest.ingest(build_services(db_url=url), "replay", limit=SNAPSHOT_MARKETS)
    assert summary.status == "ok", summary.errors
    with session_scope(open_db(url)) as s:
        counts, _ = upsert(s, Match, labeled_matches(url), ["market_a_id", "market_b_id"])
    assert counts.inserted > 100, counts
    for _ in range(2):  # two scans: two points of deviation history per pair
        scan = arbitrage.scan_once(build_services(db_url=url), source="replay")
        assert scan.status == "ok", scan
    for name in ("sma", "bollinger"):
        run = backtest.run_backtest(
            build_services(db_url=url),
            name,
            "BTC/USDT",
            "1d",
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2025, 2, 11, tzinfo=UTC),
            0.001,
            {},
            exchange="binance",
        )
        assert run.run_id is not None


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
def open_page() -> Iterator[Callable[[str], AppTest]]:
    """Run the app and switch to ``views/<name>.py``; returns the AppTest after that run."""

    def go(name: str) -> AppTest:
        at = AppTest.from_file(str(MAIN), default_timeout=120)
        at.run()
        if name != "overview":
            at.switch_page(f"views/{name}.py")
            at.run()
        return at

    yield go
    # The app installs its stderr log handler once per process; this test's captured stderr closes now.
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_oneprice", False)]:
        root.removeHandler(handler)
