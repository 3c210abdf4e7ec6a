"""Database: SQLAlchemy 2.0 typed models, Alembic migrations, idempotent bulk upserts.

SQLite (WAL) by default, PostgreSQL by URL. ``open_db(url)`` returns an engine, migrating the schema
only when it is behind (under a lock); ``migrate(engine)`` is what ``oneprice db upgrade`` runs.
Each subsystem keeps its tables in its own ``models_*.py`` module and its own migration branch
off ``0001_foundation`` (``alembic upgrade heads``).
"""

from oneprice.db.engine import init_db, make_engine, migrate, open_db, session_scope
from oneprice.db.models import (
    Bar,
    Base,
    BookSnapshot,
    Event,
    IngestRun,
    Market,
    Match,
    Outcome,
    QuoteRow,
    Venue,
)
from oneprice.db.upsert import UpsertCounts, upsert

__all__ = [
    "Bar",
    "Base",
    "BookSnapshot",
    "Event",
    "IngestRun",
    "Market",
    "Match",
    "Outcome",
    "QuoteRow",
    "UpsertCounts",
    "Venue",
    "init_db",
    "make_engine",
    "migrate",
    "open_db",
    "session_scope",
    "upsert",
]
