"""Entry point of the ``oneprice`` command line."""

from __future__ import annotations

import importlib

import typer

from oneprice.config import get_settings
from oneprice.log import setup_logging

app = typer.Typer(help="oneprice: cross-venue prediction-market and crypto analytics.", no_args_is_help=True)

# Each module defines ``register(app)``; the order here is the order of ``oneprice --help``.
COMMAND_MODULES = ("db", "ingest", "align", "arbitrage", "backtest", "llm", "agents", "dashboard", "demo")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    s = get_settings()
    setup_logging("DEBUG" if verbose else s.log_level, s.log_json)


for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"oneprice.cli.{_name}")
    except ModuleNotFoundError as exc:  # a subsystem not installed in this checkout
        if exc.name != f"oneprice.cli.{_name}":
            raise
        continue
    _mod.register(app)


if __name__ == "__main__":
    app()
