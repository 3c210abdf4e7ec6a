"""``oneprice dashboard``: serve the Streamlit dashboard headless on 127.0.0.1."""

from __future__ import annotations

import typer
from rich.console import Console

from oneprice.cli import lazy_module

dashboard = lazy_module("oneprice.services.dashboard")


def register(app: typer.Typer) -> None:
    @app.command("dashboard")
    def run_dashboard(
        port: int = typer.Option(
            None, "--port", "-p", help="Port (default: ONEPRICE_DASHBOARD_PORT or 8501)."
        ),
        db: str = typer.Option(
            None, "--db", help="Database URL (default: ONEPRICE_DB_URL or the SQLite file)."
        ),
    ) -> None:
        """Serve the dashboard on http://127.0.0.1:PORT (Ctrl-C stops it)."""
        from oneprice.config import get_settings

        port = port or get_settings().dashboard_port
        Console().print(f"oneprice dashboard on http://127.0.0.1:{port}  (Ctrl-C to stop)")
        raise typer.Exit(dashboard.serve(port=port, db_url=db))
