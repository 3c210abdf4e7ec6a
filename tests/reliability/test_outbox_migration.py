"""The outbox migration numbers the alerts already sent, per key, and matches the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

import oneprice.db.all_models  # noqa: F401  (every table registered)
from oneprice.db.base import Base
from oneprice.db.engine import alembic_config, make_engine, migrate
from tests.conftest import _drop_pg_database, _fresh_pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
        yield engine
        engine.dispose()
        return
    name, url = _fresh_pg_database()
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_pg_database(name)


def _upgrade(engine: Engine, rev: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, rev)


def test_existing_alerts_are_numbered_per_key_and_the_schema_matches(bare: Engine) -> None:
    _upgrade(bare, "0003_arbitrage")
    with bare.begin() as c:
        c.execute(text("INSERT INTO venues (name, kind, executable) VALUES ('k', 'prediction', true)"))
        c.execute(
            text(
                "INSERT INTO markets (id, venue, external_id, question, rules, status, category,"
                " executable, url, extra, raw, updated_at) VALUES"
                " (1, 'k', 'A', 'q', '', 'open', '', true, '', '{}', '{}', '2025-01-01 00:00:00'),"
                " (2, 'k', 'B', 'q', '', 'open', '', true, '', '{}', '{}', '2025-01-01 00:00:00')"
            )
        )
        c.execute(
            text(
                "INSERT INTO matches (id, market_a_id, market_b_id, relation, outcome_map, status, method,"
                " confidence, explanation, model_version, created_at, updated_at) VALUES (1, 1, 2,"
                " 'equivalent', '{}', 'proposed', '', 0.9, '{}', '', '2025-01-01 00:00:00',"
                " '2025-01-01 00:00:00')"
            )
        )
        for key in ("x", "y", "x", "x"):
            c.execute(
                text(
                    "INSERT INTO arb_alerts (key, match_id, edge, size, sent_at, sinks, payload) VALUES"
                    " (:k, 1, 0.01, 5, '2025-01-01 00:00:00', '{}', '{}')"
                ),
                {"k": key},
            )
    migrate(bare)
    with bare.connect() as c:
        got = c.execute(text("SELECT key, seq, status FROM arb_alerts ORDER BY id")).all()
        assert [tuple(r) for r in got] == [
            ("x", 1, "sent"),
            ("y", 1, "sent"),
            ("x", 2, "sent"),
            ("x", 3, "sent"),
        ]
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    assert [d for d in diff if "arb_alerts" in repr(d)] == []
