"""The bulk upsert fast paths (SQLite driver-level, PostgreSQL unnest) against a simple model of upserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from oneprice.db import Bar, Market, Venue, session_scope, upsert
from oneprice.ingest import make_client
from oneprice.ingest.base import Page

T0 = datetime(2024, 1, 1, tzinfo=UTC)
bar_rows = st.lists(
    st.tuples(
        st.sampled_from(["BTC/USDT", "ETH/USDT"]), st.integers(0, 30), st.sampled_from([1.0, 2.5, 3.0])
    ),
    max_size=60,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(bar_rows, min_size=1, max_size=3))
def test_upsert_counts_and_state_match_a_model(
    engine: Engine, batches: list[list[tuple[str, int, float]]]
) -> None:
    with session_scope(engine) as s:
        s.execute(delete(Bar))
    model: dict[tuple[Any, ...], float] = {}
    for batch in batches:
        rows = [
            {
                "exchange": "binance",
                "symbol": sym,
                "timeframe": "1h",
                "ts": T0 + timedelta(hours=h),
                "open": px,
                "high": px,
                "low": px,
                "close": px,
                "volume": 1.0,
            }
            for sym, h, px in batch
        ]
        last = {(r["exchange"], r["symbol"], r["timeframe"], r["ts"]): r["close"] for r in rows}
        want_ins = sum(1 for k in last if k not in model)
        want_upd = sum(1 for k, v in last.items() if k in model and model[k] != v)
        with session_scope(engine) as s:
            c, _ = upsert(s, Bar, rows, ["exchange", "symbol", "timeframe", "ts"])
        assert (c.inserted, c.updated, c.unchanged) == (want_ins, want_upd, len(last) - want_ins - want_upd)
        model.update(last)
    with session_scope(engine) as s:
        got = {(b.exchange, b.symbol, b.timeframe, b.ts): b.close for b in s.scalars(select(Bar))}
    assert got == model


def test_returning_ids_for_new_changed_and_unchanged_rows(engine: Engine) -> None:
    def rows(q: str) -> list[dict[str, Any]]:
        return [
            {"venue": "kalshi", "external_id": f"K-{i}", "question": f"{q} {i}", "extra": {"i": i}}
            for i in range(5)
        ]

    with session_scope(engine) as s:
        upsert(s, Venue, [{"name": "kalshi"}], ["name"])
        c1, ids1 = upsert(s, Market, rows("a")[:3], ["venue", "external_id"], returning="id")
        c2, ids2 = upsert(
            s,
            Market,
            [*rows("a")[:2], rows("b")[2], *rows("a")[3:]],
            ["venue", "external_id"],
            returning="id",
        )
        db = {(k.venue, k.external_id): k.id for k in s.scalars(select(Market))}
    assert (c1.inserted, c2.inserted, c2.updated, c2.unchanged) == (3, 2, 1, 2)
    assert ids2 == db and all(ids1[k] == ids2[k] for k in ids1)


@pytest.mark.parametrize("name", ["kalshi", "polymarket", "manifold", "predictit", "replay", "ccxt:kraken"])
def test_registry_builds_every_client(name: str) -> None:
    client = make_client(name)
    assert client.name == name.split(":")[0]
    if name.startswith("ccxt"):
        assert client.exchange_name == "kraken"  # type: ignore[attr-defined]


def test_unknown_venue_and_page_defaults() -> None:
    with pytest.raises(KeyError, match="unknown venue"):
        make_client("betfair")
    p: Page[Any] = Page()
    assert (p.items, p.rejects, p.cursor, p.quotes, p.books) == ([], [], None, [], [])
