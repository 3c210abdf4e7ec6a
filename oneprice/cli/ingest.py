"""``oneprice ingest``: pull a venue, an exchange or the bundled snapshot into the database."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from oneprice.cli import lazy_module, services

service = lazy_module("oneprice.services.ingest")

SOURCES = "kalshi|polymarket|manifold|predictit|ccxt:<exchange>|replay"


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"expected an ISO date or time like 2024-01-01, not {text!r}") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _timeframe(text: str | None) -> str | None:
    if text is None:
        return None
    if not re.fullmatch(r"[1-9][0-9]*[smhdwMy]", text.strip()):
        raise typer.BadParameter(f"expected a timeframe like 1m, 15m, 1h, 4h, 1d, 1w, not {text!r}")
    return text.strip()


def _symbols(text: str | None) -> str | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if not all(parts):
        raise typer.BadParameter(f"expected comma-separated symbols like BTC/USDT,ETH/USDT, not {text!r}")
    return ",".join(parts)


def _source(text: str) -> str:
    from oneprice.core.errors import ConfigError

    try:
        return str(service.validate_source(text.strip().lower()))
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None


def run(
    venue: str = typer.Option(..., "--venue", callback=_source, help=f"Source: {SOURCES}."),
    limit: int = typer.Option(None, "--limit", min=1, help="At most this many markets."),
    symbol: str = typer.Option(
        None, "--symbol", callback=_symbols, help="Bar symbol(s), comma-separated (ccxt default BTC/USDT)."
    ),
    timeframe: str = typer.Option(
        None, "--timeframe", callback=_timeframe, help="Bar timeframe (ccxt default 1h)."
    ),
    since: str = typer.Option(None, "--since", help="ccxt: first bar (ISO date; default 30 days ago)."),
    until: str = typer.Option(None, "--until", help="ccxt: stop before this time (ISO date)."),
) -> None:
    """Ingest one source into the database (oneprice --db URL) and print the run's counts."""
    start, stop = _since(since), _since(until)
    if start is not None and stop is not None and start >= stop:
        raise typer.BadParameter(f"--since {since} is not before --until {until}")
    svc = services()
    console = Console()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(done: int, total: int | None, stage: str) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{venue} {stage}", total=total)
            bar.advance(tasks[stage], done)

        s = service.ingest(
            svc,
            venue,
            limit=limit,
            progress=progress,
            symbol=symbol,
            timeframe=timeframe,
            since=start,
            until=stop,
        )
    table = Table(title=f"ingest run {s.run_id}: {s.source} [{s.status}]")
    for col in ("table", "inserted", "updated", "unchanged"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for name, c in s.tables.items():
        table.add_row(name, str(c["inserted"]), str(c["updated"]), str(c["unchanged"]))
    table.add_row("[b]total[/b]", str(s.inserted), str(s.updated), "")
    console.print(table)
    console.print(f"fetched={s.fetched} inserted={s.inserted} updated={s.updated} rejected={s.rejected}")
    if s.resumed_from:
        console.print(f"resumed from run {s.resumed_from}")
    for reason, n in sorted(s.rejects.items(), key=lambda kv: -kv[1]):
        console.print(f"  rejected {n:>6} x {reason}")
    for e in s.errors:
        console.print(f"[red]error:[/red] {e}")
    if s.status == "failed":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("ingest")(run)
