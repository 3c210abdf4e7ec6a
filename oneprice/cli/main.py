"""Entry point of the ``oneprice`` command line: root options, one error handler, the command groups."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import typer
from typer.core import TyperGroup

from oneprice.cli import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_TRANSIENT, EXIT_USAGE, end, fail, start


def settings_error(exc: Any) -> typer.Exit:
    """A pydantic ValidationError of the settings as one line naming each variable and what it allows."""
    parts = []
    for e in exc.errors():
        name = "ONEPRICE_" + "_".join(str(x) for x in e.get("loc", ())).upper()
        parts.append(f"{name}: {e.get('msg', 'invalid')} (got {e.get('input')!r})")
    return fail("bad setting: " + "; ".join(parts), EXIT_USAGE)


def db_first(args: list[str]) -> list[str]:
    """``--db URL`` wherever it is on the line (``oneprice db upgrade --db URL`` too) moved to the front,
    where the root command reads it: one database option for every command."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest += args[i:]
            break
        if a == "--db" and i + 1 < len(args):
            front += args[i : i + 2]
            i += 2
            continue
        (front if a.startswith("--db=") else rest).append(a)
        i += 1
    return front + rest


class RootGroup(TyperGroup):
    """Turns our errors, raised anywhere below, into a one-line message and a documented exit code."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        out: list[str] = super().parse_args(ctx, db_first(list(args)))
        return out

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Usage errors (a bad choice, a malformed option) as one line on stderr, exit status 2."""
        # typer vendors click; its exception types are reached through typer's package
        from typer._click.exceptions import ClickException, UsageError

        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except ClickException as exc:
            hint = ""
            if isinstance(exc, UsageError) and exc.ctx is not None:
                hint = f" (see: {exc.ctx.command_path} --help)"
            typer.echo(f"error: {' '.join(exc.format_message().split())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        from pydantic import ValidationError

        from oneprice.core.errors import (
            ConfigError,
            InputError,
            NotFoundError,
            OnePriceError,
            ParseError,
            TransientError,
        )

        try:
            return super().invoke(ctx)
        except NotFoundError as exc:
            raise fail(str(exc), EXIT_NOT_FOUND) from None
        except (ConfigError, InputError) as exc:  # bad configuration or a bad value the user gave
            raise fail(str(exc), EXIT_USAGE) from None
        except (
            ParseError
        ) as exc:  # a file the user gave that cannot be read (venue records are counted rejects)
            raise fail(f"cannot read the input: {exc}", EXIT_USAGE) from None
        except UnicodeDecodeError as exc:
            raise fail(
                f"the input is not UTF-8 text ({exc.reason} at byte {exc.start})", EXIT_USAGE
            ) from None
        except TransientError as exc:
            raise fail(str(exc), EXIT_TRANSIENT) from None
        except OnePriceError as exc:
            raise fail(f"{type(exc).__name__}: {exc}", EXIT_FAILED) from None
        except ValidationError as exc:
            raise settings_error(exc) from None
        finally:
            end()


app = typer.Typer(
    cls=RootGroup,
    help="oneprice: cross-venue prediction-market and crypto analytics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Each module defines ``register(app)``; the order here is the order of ``oneprice --help``.
COMMAND_MODULES = (
    "db",
    "ingest",
    "align",
    "arbitrage",
    "backtest",
    "signals",
    "llm",
    "agents",
    "dashboard",
    "demo",
)


def _version(value: bool) -> None:
    if value:
        try:
            v = version("oneprice")
        except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
            v = "unknown"
        typer.echo(f"oneprice {v}")
        raise typer.Exit()


def _db_url(value: str | None) -> str | None:
    if value is None:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except ArgumentError:
        raise typer.BadParameter(f"not a database URL: {value!r} (e.g. sqlite:///oneprice.sqlite)") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise typer.BadParameter(f"unsupported database {url.get_backend_name()!r}; use sqlite or postgresql")
    return value


@app.callback()
def _main(
    db: str = typer.Option(
        None,
        "--db",
        callback=_db_url,
        help="Database URL for every command (default: ONEPRICE_DB_URL, else SQLite in the data dir).",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    from pydantic import ValidationError

    from oneprice.config import Settings
    from oneprice.log import setup_logging

    try:
        settings = Settings(db_url=db) if db else Settings()
        setup_logging("DEBUG" if verbose else settings.log_level, settings.log_json)
    except ValidationError as exc:
        raise settings_error(exc) from None
    except ValueError as exc:  # a log level logging does not know
        raise fail(f"bad setting: {exc}", EXIT_USAGE) from None
    start(settings)


for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"oneprice.cli.{_name}")
    except ModuleNotFoundError as exc:  # a subsystem not installed in this checkout
        if exc.name != f"oneprice.cli.{_name}":
            raise
        continue
    _mod.register(app)


def main() -> None:
    """The console script: Ctrl-C ends with exit status 130 and no traceback."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
