"""Entry point of the ``oneprice`` command line."""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from oneprice.config import get_settings
from oneprice.core.errors import OnePriceError, TransientError
from oneprice.log import setup_logging


class _Root(TyperGroup):
    """Our errors end in one line on stderr: exit 2 for bad input or configuration, 1 for a transient one."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OnePriceError as exc:
            typer.echo(f"error: {' '.join(str(exc).split())}", err=True)
            raise typer.Exit(1 if isinstance(exc, TransientError) else 2) from None


app = typer.Typer(
    cls=_Root, help="oneprice: cross-venue prediction-market and crypto analytics.", no_args_is_help=True
)

# Each module defines ``register(app)``; the order here is the order of ``oneprice --help``.
COMMAND_MODULES = ("db", "ingest", "align", "arbitrage", "backtest", "llm", "dashboard", "demo")


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
