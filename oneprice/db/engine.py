"""Engines, sessions and migration to head.

Migrations run when asked (``oneprice db upgrade``, :func:`migrate`) and once at first use
(:func:`open_db`): a database already at head is only checked, never migrated again; one that is behind
is migrated under a lock (a lock file beside a SQLite file, an advisory lock on PostgreSQL) so that two
processes starting together migrate it once. A SQLite file that holds another application's tables
(tables, but no ``alembic_version``) is refused rather than written into.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError
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


def alembic_config(engine: Engine | None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def check_ours(engine: Engine) -> None:
    """Refuse a database that holds tables but was never migrated by us (another application's file)."""
    _check_sqlite_file(engine)
    # a SQLite file is read by a plain engine first: our pragmas (WAL) would already change its header
    probe = create_engine(engine.url, poolclass=NullPool) if engine.dialect.name == "sqlite" else engine
    try:
        names = set(inspect(probe).get_table_names())
    except DatabaseError as exc:  # OperationalError, or "file is not a database"
        reason = " ".join(str(exc.orig).split())[:200]
        raise ConfigError(f"cannot open {_shown(str(engine.url))}: {reason}") from None
    finally:
        if probe is not engine:
            probe.dispose()
    if names and "alembic_version" not in names:
        shown = ", ".join(sorted(names)[:5])
        raise ConfigError(
            f"{_shown(engine.url.render_as_string(hide_password=False))} holds other tables ({shown}) and "
            "no oneprice schema (another application's database?); point --db at a new or oneprice database"
        )


def _check_sqlite_file(engine: Engine) -> None:
    """Refuse a file that cannot be SQLite: SQLite takes a file shorter than its smallest page (512 bytes)
    for a new database and writes over it; a longer foreign file it refuses itself ('not a database').

    Only ``stat``: opening and closing the file here would drop the SQLite locks this process holds on
    it (POSIX locks belong to the process, and any close releases them)."""
    db = engine.url.database
    if engine.dialect.name != "sqlite" or not db or db == ":memory:" or db.startswith("file:"):
        return
    path = Path(db)
    if path.is_dir():
        raise ConfigError(f"cannot open {_shown(str(engine.url))}: it is a directory")
    if path.is_file() and 0 < path.stat().st_size < 512:
        raise ConfigError(
            f"{_shown(str(engine.url))} is not a SQLite database ({path.stat().st_size} bytes); "
            "point --db at a new or oneprice database"
        )


_PG_LOCK_KEY = 0x0E_9A1C_E5  # pg_advisory_lock key of oneprice's migrations
_local_lock = threading.Lock()


def heads() -> set[str]:
    """The revisions of the latest schema (one head per subsystem branch)."""
    return set(ScriptDirectory.from_config(alembic_config(None)).get_heads())


def current(engine: Engine) -> set[str]:
    """The revisions the database is at (empty for a new database)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations of one database across threads and processes."""
    with _local_lock:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                    conn.commit()
            return
        db = engine.url.database
        if engine.dialect.name != "sqlite" or not db or db == ":memory:":
            yield
            return
        import fcntl

        with open(f"{db}.migrate.lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def migrate(engine: Engine) -> bool:
    """Upgrade the schema to every head (each subsystem owns a branch) under the migration lock.

    Returns whether anything was migrated (False when the database was already at head)."""
    check_ours(engine)  # before our first connection (its pragmas would rewrite a foreign file)
    with _migration_lock(engine):
        if current(engine) == heads():
            return False
        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
        return True


def open_db(url: str, **kwargs: Any) -> Engine:
    """Engine for ``url``; the schema is checked and migrated only when it is behind (first use)."""
    engine = make_engine(url, **kwargs)
    try:
        check_ours(engine)  # before our first connection (its pragmas would rewrite a foreign file)
        if current(engine) != heads():
            migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def init_db(url: str, **kwargs: Any) -> Engine:
    """Engine for ``url``, migrated to head (the same as :func:`open_db`)."""
    return open_db(url, **kwargs)


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
