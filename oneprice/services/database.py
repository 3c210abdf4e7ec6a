"""Database use cases shared by every service: the engine for the configured URL."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from oneprice.config import get_settings
from oneprice.db import init_db


def engine_for(url: str | None = None) -> Engine:
    """A migrated engine for ``url`` (default: ``ONEPRICE_DB_URL`` or the SQLite file), cached per URL.

    The default is resolved on every call, so a changed setting never reuses another database's engine.
    """
    return _engine(url or get_settings().resolved_db_url)


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    return init_db(url)


def upgrade(url: str | None = None) -> str:
    engine = engine_for(url)
    return engine.url.render_as_string(hide_password=True)
