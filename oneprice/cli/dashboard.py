"""``oneprice dashboard``: serve the Streamlit dashboard headless on 127.0.0.1."""

from __future__ import annotations

import typer
from rich.console import Console

from oneprice.cli import lazy_module, services

dashboard = lazy_module("oneprice.services.dashboard")


def register(app: typer.Typer) -> None:
    @app.command("dashboard")
    def run_dashboard(
        port: int = typer.Option(
            None, "--port", "-p", min=1, max=65535, help="Port (default: ONEPRICE_DASHBOARD_PORT or 8501)."
        ),
    ) -> None:
        """Serve the dashboard of the database (oneprice --db URL) on http://127.0.0.1:PORT."""
        svc = services()
        port = port or svc.settings.dashboard_port
        Console().print(f"oneprice dashboard on http://127.0.0.1:{port}  (Ctrl-C to stop)")
        raise typer.Exit(dashboard.serve(svc, port=port))
