"""``oneprice db``: create or upgrade the database schema."""

from __future__ import annotations

import typer
from rich.console import Console

from oneprice.cli import lazy_module

database = lazy_module("oneprice.services.database")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Database schema.", no_args_is_help=True)

    @sub.command("upgrade")
    def upgrade(
        url: str = typer.Option(None, help="Database URL (default: ONEPRICE_DB_URL or SQLite)."),
    ) -> None:
        """Migrate the database to the latest schema."""
        Console().print(f"database ready: {database.upgrade(url)}")

    app.add_typer(sub, name="db")
