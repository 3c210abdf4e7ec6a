"""``oneprice db``: create or upgrade the database schema."""

from __future__ import annotations

import typer
from rich.console import Console

from oneprice.cli import lazy_module, services

database = lazy_module("oneprice.services.database")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Database schema.", no_args_is_help=True)

    @sub.command("upgrade")
    def upgrade() -> None:
        """Migrate the database (oneprice --db URL; default ONEPRICE_DB_URL or SQLite) to the schema."""
        res = database.upgrade(services())
        Console().print(f"database {'upgraded' if res.migrated else 'already current'}: {res.url}")

    app.add_typer(sub, name="db")
