"""Database use cases: migrate the configured database (``oneprice db upgrade``)."""

from __future__ import annotations

from dataclasses import dataclass

from oneprice.db import make_engine, migrate
from oneprice.services.container import Services


@dataclass(frozen=True)
class Upgraded:
    url: str  # password masked
    migrated: bool  # False when the schema was already at head


def upgrade(svc: Services) -> Upgraded:
    """Migrate the database of ``svc`` to the latest schema (under the migration lock)."""
    engine = make_engine(svc.settings.resolved_db_url)
    try:
        done = migrate(engine)
        return Upgraded(engine.url.render_as_string(hide_password=True), done)
    finally:
        engine.dispose()
