"""``oneprice backtest run|sweep|walkforward|report|list|strategies``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from oneprice.cli import lazy_module, services
from oneprice.core.errors import InputError, NotFoundError, OnePriceError

bt = lazy_module("oneprice.services.backtest")

SHOW = (
    "total_return",
    "annual_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_days",
    "calmar",
    "win_rate",
    "profit_factor",
    "exposure",
    "trade_count",
    "turnover",
    "fees_paid",
    "final_equity",
    "benchmark_total_return",
    "excess_return",
)
PCT = {
    "total_return",
    "annual_return",
    "max_drawdown",
    "win_rate",
    "exposure",
    "benchmark_total_return",
    "excess_return",
}


class EngineKind(StrEnum):
    vector = "vector"
    event = "event"


class Fill(StrEnum):
    close = "close"
    next_open = "next_open"


def _fmt(k: str, v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.2%}" if k in PCT else f"{v:,.4f}"
    return str(v)


def parse_params(items: list[str] | None) -> dict[str, str]:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise typer.BadParameter(f"expected NAME=VALUE, not {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def parse_grid(items: list[str] | None) -> dict[str, list[float]]:
    """NAME=a:b[:step] (inclusive range) or NAME=v1,v2,... per item."""
    grid: dict[str, list[float]] = {}
    for k, v in parse_params(items).items():
        if ":" in v:
            parts = [float(x) for x in v.split(":")]
            lo, hi, step = parts[0], parts[1], parts[2] if len(parts) > 2 else 1.0
            if not all(map(math.isfinite, (lo, hi, step))) or step <= 0 or hi < lo:
                raise InputError(f"bad range {k}={v}: need finite lo <= hi and step > 0")
            n = math.floor((hi - lo) / step + 1e-9) + 1
            cap = services().settings.backtest_max_grid
            if n > cap:  # counted before a single value is made
                raise InputError(
                    f"range {k}={v} has {n:,} values; at most {cap:,} (ONEPRICE_BACKTEST_MAX_GRID)"
                )
            grid[k] = [lo + i * step for i in range(n)]
        else:
            grid[k] = [float(x) for x in v.split(",") if x.strip()]
    if not grid:
        raise typer.BadParameter("give at least one --grid NAME=lo:hi[:step] or NAME=v1,v2")
    return grid


def _guard(fn: Callable[[], None]) -> None:
    """Run ``fn``; a user error prints a clear message (exit 2), no traceback."""
    try:
        fn()
    except NotFoundError:
        raise  # the root handler maps it to exit code 3
    except (OnePriceError, ValueError, KeyError) as exc:
        typer.echo(f"error: {' '.join(str(exc).split())}", err=True)  # one line, never wrapped
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Backtest strategies on bars and prediction-market pairs.", no_args_is_help=True)
    con = Console()

    @sub.command("run")
    def run(
        strategy: str = typer.Option(..., help="Strategy name (see `oneprice backtest strategies`)."),
        symbol: str = typer.Option("BTC/USDT", help="ccxt symbol, or match:<id> for convergence."),
        timeframe: str = typer.Option("1h"),
        start: str = typer.Option(None, help="UTC start, e.g. 2024-01-01"),
        end: str = typer.Option(None, help="UTC end (inclusive)"),
        fee: float = typer.Option(0.001, help="Fee as a fraction of notional (0.001 = 0.1%)."),
        slippage: float = typer.Option(0.0, help="Slippage as a fraction of price."),
        param: list[str] = typer.Option(None, "--param", help="NAME=VALUE, repeatable."),
        exchange: str = typer.Option("binance"),
        csv: str = typer.Option(None, "--csv", help="Read bars from a CSV/Parquet file instead of the DB."),
        engine: EngineKind = typer.Option("vector", help="Vectorised or event-driven engine."),
        fill: Fill = typer.Option("close", help="close: the signal bar's close; next_open: the next open."),
        cash: float = typer.Option(10_000.0),
        signal_source: str = typer.Option("default", help="signals.source for the signal strategy."),
        stop_loss: float = typer.Option(0.0, help="Stop-loss, fraction of entry price (event engine)."),
        take_profit: float = typer.Option(0.0, help="Take-profit, fraction of entry price (event engine)."),
        as_json: bool = typer.Option(False, "--json", help="Print metrics as JSON."),
    ) -> None:
        """Run one backtest, store it, print its metrics."""

        def go() -> None:
            out = bt.run_backtest(
                services(),
                strategy,
                symbol,
                timeframe,
                start,
                end,
                fee,
                parse_params(param),
                exchange,
                csv=csv,
                engine=engine.value,
                fill=fill.value,
                cash=cash,
                slippage=slippage,
                signal_source=signal_source,
                stop_loss=stop_loss,
                take_profit=take_profit,
            )
            if as_json:
                body = {"run_id": out.run_id, "metrics": out.metrics}
                typer.echo(json.dumps(body, default=str, allow_nan=False))  # metrics hold no NaN
                return
            m = out.metrics
            t = Table(title=f"run {out.run_id}: {strategy} {symbol} {timeframe} {out.meta.get('params')}")
            t.add_column("metric")
            t.add_column("value", justify="right")
            for k in SHOW:
                if k in m:
                    t.add_row(k, _fmt(k, m[k]))
            con.print(t)
            con.print(f"report: oneprice backtest report {out.run_id}")

        _guard(go)

    @sub.command("sweep")
    def sweep(
        strategy: str = typer.Option(...),
        symbol: str = typer.Option("BTC/USDT"),
        timeframe: str = typer.Option("1h"),
        start: str = typer.Option(None),
        end: str = typer.Option(None),
        fee: float = typer.Option(0.001),
        grid: list[str] = typer.Option(None, "--grid", help="NAME=lo:hi[:step] or NAME=v1,v2 (repeatable)."),
        exchange: str = typer.Option("binance"),
        csv: str = typer.Option(None, "--csv"),
        fill: Fill = typer.Option("close"),
        workers: int = typer.Option(None, help="Local processes (default: CPU count)."),
        scheduler: str = typer.Option(None, help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."),
        sort_by: str = typer.Option("sharpe"),
        top: int = typer.Option(10),
    ) -> None:
        """Backtest a parameter grid in parallel and rank it."""

        def go() -> None:
            with Console(stderr=True).status(f"sweeping {strategy} over the grid"):
                out = bt.sweep(
                    services(),
                    strategy,
                    symbol,
                    timeframe,
                    start,
                    end,
                    fee,
                    parse_grid(grid),
                    exchange,
                    csv=csv,
                    fill=fill.value,
                    workers=workers,
                    scheduler=scheduler,
                    sort_by=sort_by,
                )
            con.print(
                f"{out.combinations} combinations ({out.skipped} invalid skipped) in "
                f"{out.seconds:.3f} s, ranked by {sort_by}"
            )
            rows = out.rows[:top]
            if rows:
                t = Table()
                for c in rows[0]:
                    t.add_column(c, justify="right")
                for r in rows:
                    t.add_row(*[_fmt(k, v) for k, v in r.items()])
                con.print(t)

        _guard(go)

    @sub.command("walkforward")
    def walkforward(
        strategy: str = typer.Option(...),
        symbol: str = typer.Option("BTC/USDT"),
        timeframe: str = typer.Option("1h"),
        start: str = typer.Option(None),
        end: str = typer.Option(None),
        fee: float = typer.Option(0.001),
        grid: list[str] = typer.Option(None, "--grid"),
        train: int = typer.Option(2000, help="Bars per training window."),
        test: int = typer.Option(500, help="Bars per out-of-sample window."),
        objective: str = typer.Option("sharpe"),
        csv: str = typer.Option(None, "--csv"),
        workers: int = typer.Option(None),
        scheduler: str = typer.Option(None),
    ) -> None:
        """Walk-forward: optimise on each train window, trade the next test window."""

        def go() -> None:
            out = bt.walk_forward(
                services(),
                strategy,
                symbol,
                timeframe,
                start,
                end,
                fee,
                parse_grid(grid),
                train,
                test,
                csv=csv,
                objective=objective,
                workers=workers,
                scheduler=scheduler,
            )
            t = Table(title=f"walk-forward {strategy}: out-of-sample return {out.total_return:.2%}")
            for c in ("test_start", "test_end", "params", f"train_{objective}", "test_return"):
                t.add_column(c)
            for f in out.folds:
                t.add_row(
                    str(f["test_start"]),
                    str(f["test_end"]),
                    json.dumps(f["params"]),
                    _fmt("", f[f"train_{objective}"]),
                    _fmt("total_return", f["test_return"]),
                )
            con.print(t)

        _guard(go)

    @sub.command("report")
    def report(
        run_id: int = typer.Argument(..., help="A stored run id (see `oneprice backtest list`)."),
        out: str = typer.Option("reports", help="Output directory."),
        cdn: bool = typer.Option(False, help="Load plotly.js from its CDN instead of embedding it."),
    ) -> None:
        """Write the HTML (interactive plotly) and JSON reports of a stored run."""

        def go() -> None:
            paths = bt.report(services(), run_id, out, cdn)
            con.print(f"html: {paths.html}\njson: {paths.json}")

        _guard(go)

    @sub.command("list")
    def list_(limit: int = typer.Option(20, min=1)) -> None:
        """Stored runs, newest first."""

        def go() -> None:
            t = Table()
            for c in ("id", "created", "strategy", "symbol", "tf", "params", "return", "sharpe", "trades"):
                t.add_column(c)
            for r in bt.list_runs(services(), limit):
                m = r.metrics or {}
                t.add_row(
                    str(r.run_id),
                    r.created_at[:19],
                    r.strategy,
                    r.symbol,
                    r.timeframe,
                    json.dumps(r.params),
                    _fmt("total_return", m.get("total_return")),
                    _fmt("", m.get("sharpe")),
                    str(m.get("trade_count", "")),
                )
            con.print(t)

        _guard(go)

    @sub.command("strategies")
    def strategies() -> None:
        """Strategies and their parameters."""
        for s in bt.list_strategies():
            ps = ", ".join(f"{k}={p.default}" for k, p in s.params.items())
            con.print(f"[bold]{s.name}[/bold] ({ps}): {s.help}")

    app.add_typer(sub, name="backtest")
