from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, inspect, select

from oneprice.db import Bar, Market, Outcome, Venue, session_scope, upsert


def _markets(n: int, question: str = "q") -> list[dict]:
    return [
        {
            "venue": "kalshi",
            "external_id": f"KX-{i}",
            "question": f"{question}{i}",
            "close_time": datetime(2025, 3, 1, 12, tzinfo=UTC),
            "extra": {"tick_size": "0.01"},
        }
        for i in range(n)
    ]


def test_migrations_create_foundation_tables(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert {
        "venues",
        "events",
        "markets",
        "outcomes",
        "quotes",
        "book_snapshots",
        "bars",
        "ingest_runs",
        "matches",
        "alembic_version",
    } <= names


def test_upsert_is_idempotent_and_counts_changes(engine: Engine) -> None:
    with session_scope(engine) as s:
        upsert(s, Venue, [{"name": "kalshi", "kind": "prediction", "executable": True}], ["name"])
        c1, ids = upsert(s, Market, _markets(50), ["venue", "external_id"], returning="id")
        assert (c1.inserted, c1.updated, c1.unchanged) == (50, 0, 0) and len(ids) == 50
    with session_scope(engine) as s:
        c2, ids2 = upsert(s, Market, _markets(50), ["venue", "external_id"], returning="id")
        assert (c2.inserted, c2.updated, c2.unchanged) == (0, 0, 50)
        assert ids2 == ids  # existing ids are reported for unchanged rows too
        rows = _markets(51)
        rows[3]["question"] = "changed"
        c3, _ = upsert(s, Market, rows, ["venue", "external_id"])
        assert (c3.inserted, c3.updated, c3.unchanged) == (1, 1, 49)
        assert s.scalar(select(func.count()).select_from(Market)) == 51
        m = s.scalar(select(Market).where(Market.external_id == "KX-0"))
        assert m is not None and m.close_time == datetime(2025, 3, 1, 12, tzinfo=UTC)
        assert m.extra == {"tick_size": "0.01"}


def test_upsert_last_duplicate_in_batch_wins(engine: Engine) -> None:
    with session_scope(engine) as s:
        upsert(s, Venue, [{"name": "binance", "kind": "crypto", "executable": True}], ["name"])
        t = datetime(2025, 1, 1, tzinfo=UTC)
        row = {
            "exchange": "binance",
            "symbol": "BTC/USDT",
            "timeframe": "1h",
            "ts": t,
            "open": 1.0,
            "high": 2.0,
            "low": 0.5,
            "close": 1.5,
            "volume": 10.0,
        }
        c, _ = upsert(s, Bar, [row, {**row, "close": 1.7}], ["exchange", "symbol", "timeframe", "ts"])
        assert c.inserted == 1
        assert s.scalar(select(Bar.close)) == pytest.approx(1.7)


def test_prices_round_trip_as_decimals(engine: Engine) -> None:
    with session_scope(engine) as s:
        upsert(s, Venue, [{"name": "kalshi"}], ["name"])
        _, ids = upsert(s, Market, _markets(1), ["venue", "external_id"], returning="id")
        mid = next(iter(ids.values()))
        upsert(
            s, Outcome, [{"market_id": mid, "name": "Yes", "price": Decimal("0.07")}], ["market_id", "name"]
        )
    with session_scope(engine) as s:
        assert s.scalar(select(Outcome.price)) == Decimal("0.07")


def test_failed_transaction_leaves_nothing(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        upsert(s, Venue, [{"name": "kalshi"}], ["name"])
        upsert(s, Market, _markets(5), ["venue", "external_id"])
        raise RuntimeError("crash mid-page")
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Market)) == 0
