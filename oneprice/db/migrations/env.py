"""Alembic environment: uses the connection handed in by ``oneprice.db.engine.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import oneprice.db.all_models  # noqa: F401  (registers every subsystem's tables)
from oneprice.db.base import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:
        engine = engine_from_config(
            config.get_section(config.config_ini_section) or {}, poolclass=pool.NullPool
        )
        with engine.begin() as connection:
            _run(connection)
    else:
        _run(conn)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
