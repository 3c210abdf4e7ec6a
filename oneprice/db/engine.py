"""Engines, sessions and migration to head."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from oneprice.core.errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite files get WAL, foreign keys and a busy timeout; parent dirs are made.

    A URL SQLAlchemy cannot read, or whose driver is not installed, raises ``ConfigError``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"bad database URL {_shown(url)!r}: expected e.g. sqlite:///file.db") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")
    try:
        return _engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"bad database URL {_shown(url)!r}: {exc}") from None


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1][:80]


def _engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, **kwargs)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def check_ours(engine: Engine) -> None:
    """Refuse a database that holds tables but was never migrated by us (another application's file)."""
    # a SQLite file is read by a plain engine first: our pragmas (WAL) would already change its header
    probe = create_engine(engine.url, poolclass=NullPool) if engine.dialect.name == "sqlite" else engine
    try:
        names = set(inspect(probe).get_table_names())
    except OperationalError as exc:
        reason = " ".join(str(exc.orig).split())[:200]
        raise ConfigError(f"cannot open {_shown(str(engine.url))}: {reason}") from None
    finally:
        if probe is not engine:
            probe.dispose()
    if names and "alembic_version" not in names:
        shown = ", ".join(sorted(names)[:5])
        raise ConfigError(
            f"{_shown(engine.url.render_as_string(hide_password=False))} holds another application's tables "
            f"({shown}); point --db at a new file or an oneprice database"
        )


def migrate(engine: Engine) -> None:
    """Upgrade the schema to every head (each subsystem owns a branch); refuse a foreign database."""
    check_ours(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def init_db(url: str | None = None, **kwargs: Any) -> Engine:
    """Engine for ``url`` (default: the configured database), migrated to head."""
    if url is None:
        from oneprice.config import get_settings

        url = get_settings().resolved_db_url
    engine = make_engine(url, **kwargs)
    migrate(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
