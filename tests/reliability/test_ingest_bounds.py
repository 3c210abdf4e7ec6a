"""Unbounded work and bad ingest arguments: every one ends, in one line where the user typed it."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from oneprice.config import Settings
from oneprice.core import PermanentError
from oneprice.db import init_db
from oneprice.ingest.http import HttpClient
from oneprice.ingest.venues.kalshi import KalshiClient
from oneprice.services import ingest as svc
from oneprice.services.container import build_services
from tests.ingest.conftest import FakeVenue, Reply, load
from tests.reliability.helpers import assert_one_line_error, run_cli, snapshot


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'ours.db'}"
    return url, init_db(url)


@pytest.mark.parametrize("venue", ["nosuchvenue", "kalshi2", "cc:binance", "ccxt:nosuchexchange"])
def test_an_unknown_venue_is_one_line_and_stores_no_run(venue: str, db: tuple[str, Engine]) -> None:
    url, engine = db
    before = snapshot(engine)
    err = assert_one_line_error(run_cli(["--db", url, "ingest", "--venue", venue]), "unknown")
    assert "kalshi" in err and "replay" in err  # the allowed values
    assert snapshot(engine) == before


@pytest.mark.parametrize(("opt", "value"), [("--since", "yesterday"), ("--until", "2024-13-45")])
def test_a_bad_date_is_one_line_and_touches_nothing(opt: str, value: str, db: tuple[str, Engine]) -> None:
    url, engine = db
    before = snapshot(engine)
    res = run_cli(["--db", url, "ingest", "--venue", "ccxt:binance", opt, value])
    assert_one_line_error(res, value, "ISO date")
    assert snapshot(engine) == before


def test_a_venue_repeating_its_cursor_ends_the_run(
    fake: FakeVenue, settings: Settings, tmp_path: Path
) -> None:
    rows = load("kalshi/markets_raw_v2.json")
    events = [{"event_ticker": r["event_ticker"], "title": "E", "markets": [r]} for r in rows]
    pages = {None: ("c1", events[:5]), "c1": ("c2", events[5:10]), "c2": ("c1", events[10:15])}

    def handler(q: dict[str, str]) -> dict[str, Any]:
        nxt, page = pages[q.get("cursor")]
        return {"events": page, "cursor": nxt}

    fake.route("/trade-api/v2/events", handler)
    client = KalshiClient(settings=settings, base_url=fake.url + "/trade-api/v2", page_size=5)
    out = svc.ingest(build_services(db_url=f"sqlite:///{tmp_path / 'x.db'}"), "kalshi", client=client)
    assert out.status == "failed" and "repeated cursor 'c1'" in out.errors[0]
    assert out.tables["markets"]["inserted"] == 10  # the two distinct pages are kept
    assert len(fake.hits("/trade-api/v2/events")) == 3


def _get(settings: Settings, fake: FakeVenue, path: str) -> Any:
    async def go() -> Any:
        http = HttpClient("kalshi", fake.url, settings=settings)
        try:
            return await http.get_json(path)
        finally:
            await http.aclose()

    return asyncio.run(go())


def test_a_response_over_the_cap_is_refused(fake: FakeVenue, settings: Settings) -> None:
    small = settings.model_copy(update={"http_max_body_mb": 0.01})  # 10 KiB
    fake.route("/big", Reply(200, b"[" + b"1," * 20_000 + b"1]"))
    with pytest.raises(PermanentError, match=r"response body over 0\.01 MB"):
        _get(small, fake, "/big")
    fake.route("/ok", Reply(200, [1, 2, 3]))
    assert _get(small, fake, "/ok") == [1, 2, 3]


def test_a_gzip_bomb_is_refused_before_it_is_inflated(fake: FakeVenue, settings: Settings) -> None:
    small = settings.model_copy(update={"http_max_body_mb": 1.0})
    bomb = gzip.compress(b"[" + b"0," * 50_000_000 + b"0]")  # 100 MB of JSON in about 100 KB
    assert len(bomb) < 200_000
    fake.route("/bomb", Reply(200, bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(PermanentError, match="response body over 1 MB"):
        _get(small, fake, "/bomb")


def test_page_size_zero_is_refused_at_settings() -> None:
    from oneprice.core import ConfigError

    with pytest.raises(ConfigError, match="ONEPRICE_INGEST_PAGE_SIZE"):
        Settings(ingest_page_size=0)
