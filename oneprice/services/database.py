"""Database use cases shared by every service: the engine for the configured URL."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from oneprice.config import get_settings
from oneprice.db import init_db


@lru_cache(maxsize=8)
def engine_for(url: str | None = None) -> Engine:
    """A migrated engine for ``url`` (default: ``ONEPRICE_DB_URL`` or the SQLite file), cached."""
    return init_db(url or get_settings().resolved_db_url)


def upgrade(url: str | None = None) -> str:
    engine = engine_for(url)
    return engine.url.render_as_string(hide_password=True)
