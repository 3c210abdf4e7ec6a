"""Backtest use cases: run, sweep, walk-forward, list and fetch stored runs, write reports.

Bars come from the database (``bars`` table) or a CSV/Parquet file; the convergence strategy reads a
matched pair's quote history (``symbol="match:<id>"``); the signal strategy reads ``signals``.
Every run is persisted in ``backtest_runs`` for the dashboard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from oneprice.backtest import CostModel, backtest, get_strategy, load_bars, read_bars_file
from oneprice.backtest import store as bt_store
from oneprice.backtest.convergence import PARAMS as PAIR_PARAMS
from oneprice.backtest.convergence import load_pair, run_convergence
from oneprice.backtest.data import Bars, available_bars
from oneprice.backtest.strategies import STRATEGIES, align_signal
from oneprice.backtest.sweep import sweep as run_sweep
from oneprice.backtest.sweep import walk_forward as run_walk_forward
from oneprice.core.errors import NotFoundError
from oneprice.services.container import Services
from oneprice.services.ingest_queries import BarSeries

PAIR = "convergence"
TF_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "1d": 86400}

__all__ = [
    "available_data",
    "get_run",
    "list_runs",
    "list_strategies",
    "report",
    "run_backtest",
    "sweep",
    "walk_forward",
]


@dataclass(frozen=True)
class ParamSpec:
    type: str  # int | float | bool | str
    default: Any
    min: float | None
    max: float | None
    help: str


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    help: str
    needs_signal: bool
    pair: bool  # trades a matched pair (symbol "match:<id>"), not a bar series
    params: dict[str, ParamSpec]


@dataclass(frozen=True)
class RunSeries:
    """A run's equity, drawdown and traded price, thinned for charting."""

    ts: list[str]
    equity: list[float | None]
    drawdown: list[float | None]
    price: list[float | None]
    price_label: str
    points: int
    bars: int


@dataclass(frozen=True)
class BacktestRun:
    run_id: int | None  # None when not saved
    metrics: dict[str, Any]  # metric name -> value (NaN and infinity as None)
    equity: RunSeries
    trades: list[dict[str, Any]]  # one row per trade (the engine's trade table)
    meta: dict[str, Any]  # strategy, params, costs, symbol... as the engine records them


@dataclass(frozen=True)
class SweepResult:
    combinations: int
    skipped: int
    seconds: float
    rows: list[dict[str, Any]]  # one per combination: its parameters and metrics, best first
    best: dict[str, Any] | None
    sort_by: str


@dataclass(frozen=True)
class EquityCurve:
    ts: list[str]
    equity: list[float | None]


@dataclass(frozen=True)
class WalkForwardResult:
    folds: list[dict[str, Any]]  # train/test spans, chosen params, train_<objective>, test_return
    equity: EquityCurve  # out of sample, chained over the folds
    final_equity: float | None
    total_return: float | None


@dataclass(frozen=True)
class RunRow:
    """A stored run without its series."""

    run_id: int
    created_at: str
    status: str
    kind: str
    strategy: str
    engine: str
    fill: str
    exchange: str
    symbol: str
    timeframe: str
    source: str
    start: str | None
    end: str | None
    params: dict[str, Any]
    costs: dict[str, Any]
    metrics: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class SeriesPoint:
    ts: str
    value: float | None


@dataclass(frozen=True)
class StoredRun(RunRow):
    series: dict[str, Any]  # as stored: ts, equity, drawdown, price, price_label, points, bars
    trades: list[dict[str, Any]]
    equity: list[SeriesPoint]
    drawdown: list[SeriesPoint]
    prices: list[SeriesPoint]


def list_strategies() -> list[StrategyInfo]:
    """Every strategy with its parameter schema (type, default, min, max, help)."""
    out = [
        StrategyInfo(
            name,
            s.help,
            s.needs_signal,
            False,
            {k: ParamSpec(**p.schema()) for k, p in s.params.items()},
        )
        for name, s in sorted(STRATEGIES.items())
    ]
    out.append(
        StrategyInfo(
            PAIR,
            "Cross-venue convergence on a matched pair (symbol 'match:<id>'): buy the complete "
            "set when its executable edge after fees beats a threshold; hold to settlement or exit "
            "when the gap closes.",
            False,
            True,
            {k: ParamSpec(**p.schema()) for k, p in PAIR_PARAMS.items()},
        )
    )
    return out


def available_data(svc: Services) -> list[BarSeries]:
    """Stored bar series (exchange, symbol, timeframe, bars, first, last)."""
    return [BarSeries(**r) for r in available_bars(svc.engine)]


def _bars(
    svc: Services, symbol: str, timeframe: str, start: Any, end: Any, exchange: str, csv: str | Path | None
) -> Bars:
    if isinstance(end, str) and len(end.strip()) <= 10:  # a bare date: the whole day
        end = _t(end) + timedelta(days=1) - timedelta(microseconds=1)
    if start is not None and end is not None and _t(start) > _t(end):
        raise ValueError(f"start {start} is after end {end}")
    if csv:
        bars = read_bars_file(csv, symbol, timeframe).slice(start, end)
        if len(bars) == 0:
            full = read_bars_file(csv, symbol, timeframe)
            raise NotFoundError(
                f"no bars in {csv} between {start} and {end}; file spans {full.index[0]} to {full.index[-1]}"
                if len(full)
                else f"{csv} has no bars"
            )
        bars.exchange = exchange
        return bars
    return load_bars(svc.engine, symbol, timeframe, start, end, exchange)


def _t(x: Any) -> datetime:
    import pandas as pd

    t = pd.Timestamp(x)
    return (t.tz_localize("UTC") if t.tz is None else t).to_pydatetime()


def _signal(svc: Services, bars: Bars, source: str, key: str, timeframe: str) -> np.ndarray:
    s = bt_store.read_signals(svc.engine, source, key)
    return align_signal(bars, s.index, s.to_numpy(), TF_SECONDS.get(timeframe, 0))


def _match_id(symbol: str, params: dict[str, Any]) -> int:
    if "match_id" in params:
        return int(params.pop("match_id"))
    if symbol.startswith("match:"):
        return int(symbol.split(":", 1)[1])
    raise ValueError("the convergence strategy trades a matched pair: pass --symbol match:<id>")


def run_backtest(
    svc: Services,
    strategy: str,
    symbol: str,
    timeframe: str = "1h",
    start: Any = None,
    end: Any = None,
    fee: float = 0.001,
    params: dict[str, Any] | None = None,
    exchange: str = "binance",
    *,
    csv: str | Path | None = None,
    engine: str = "vector",
    fill: str = "close",
    cash: float = 10_000.0,
    slippage: float = 0.0,
    signal_source: str = "default",
    save: bool = True,
    stop_loss: float = 0.0,
    take_profit: float = 0.0,
) -> BacktestRun:
    """Run one backtest and persist it; returns run_id, metrics, equity series and trades."""
    params = dict(params or {})
    db = svc.engine
    if strategy == PAIR:
        pair = load_pair(db, _match_id(symbol, params), fee=fee)
        res = run_convergence(pair, params, Decimal(str(cash)))
        res.meta["cost"] = {"fee": fee, "venue_fees": True}
        kind, src = "pair", "db"
    else:
        strat = get_strategy(strategy)
        bars = _bars(svc, symbol, timeframe, start, end, exchange, csv)
        sig = _signal(svc, bars, signal_source, symbol, timeframe) if strat.needs_signal else None
        res = backtest(
            bars,
            strategy,
            params,
            CostModel(fee=fee, slippage=slippage),
            cash,
            fill,
            engine,
            signal=sig,
            stop_loss=stop_loss,
            take_profit=take_profit,
        )
        if strat.needs_signal:
            res.meta["params"] = {**res.meta["params"], "signal_source": signal_source}
        kind, src = "bars", "file" if csv else "db"
    run_id = bt_store.save_run(db, res, kind=kind, source=src) if save else None
    return BacktestRun(
        run_id=run_id,
        metrics=bt_store.jsonable(res.metrics()),  # NaN and infinity as None
        equity=RunSeries(**bt_store.series_of(res)),
        trades=bt_store.trades_of(res),
        meta=bt_store.jsonable(res.meta),
    )


def sweep(
    svc: Services,
    strategy: str,
    symbol: str,
    timeframe: str,
    start: Any,
    end: Any,
    fee: float,
    grid: dict[str, list[Any]],
    exchange: str = "binance",
    *,
    csv: str | Path | None = None,
    fill: str = "close",
    cash: float = 10_000.0,
    workers: int | None = None,
    scheduler: str | None = None,
    sort_by: str = "sharpe",
    signal_source: str = "default",
) -> SweepResult:
    """Backtest every combination of ``grid`` in parallel (processes, or Dask at ``scheduler``)."""
    strat = get_strategy(strategy)
    bars = _bars(svc, symbol, timeframe, start, end, exchange, csv)
    sig = _signal(svc, bars, signal_source, symbol, timeframe) if strat.needs_signal else None
    t = time.perf_counter()
    table = run_sweep(
        bars,
        strategy,
        grid,
        CostModel(fee=fee),
        cash,
        fill,
        signal=sig,
        workers=workers,
        scheduler=scheduler,
        max_combos=svc.settings.backtest_max_grid,
    )
    elapsed = time.perf_counter() - t
    if sort_by not in table.columns and len(table):
        raise ValueError(f"cannot sort by {sort_by!r}; choose one of {', '.join(table.columns)}")
    if len(table):
        table = table.sort_values(sort_by, ascending=False, na_position="last")
    rows = bt_store.jsonable(table.to_dict("records"))
    return SweepResult(
        combinations=len(rows),
        skipped=table.attrs.get("skipped", 0),
        seconds=elapsed,
        rows=rows,
        best=rows[0] if rows else None,
        sort_by=sort_by,
    )


def walk_forward(
    svc: Services,
    strategy: str,
    symbol: str,
    timeframe: str,
    start: Any,
    end: Any,
    fee: float,
    grid: dict[str, list[Any]],
    train: int,
    test: int,
    exchange: str = "binance",
    *,
    csv: str | Path | None = None,
    objective: str = "sharpe",
    workers: int | None = None,
    scheduler: str | None = None,
) -> WalkForwardResult:
    """Walk-forward optimisation: best params on each train window, traded out of sample."""
    bars = _bars(svc, symbol, timeframe, start, end, exchange, csv)
    out = run_walk_forward(
        bars,
        strategy,
        grid,
        train,
        test,
        objective,
        CostModel(fee=fee),
        workers=workers,
        scheduler=scheduler,
        max_combos=svc.settings.backtest_max_grid,
    )
    eq = out.pop("equity")
    js = bt_store.jsonable(out)
    return WalkForwardResult(
        folds=js["folds"],
        equity=EquityCurve([t.isoformat() for t in eq.index], bt_store.jsonable(eq.tolist())),
        final_equity=js["final_equity"],
        total_return=js["total_return"],
    )


def list_runs(svc: Services, limit: int = 50) -> list[RunRow]:
    """Latest stored runs, newest first (no series)."""
    return [RunRow(**r) for r in bt_store.list_runs(svc.engine, limit)]


def get_run(svc: Services, run_id: int) -> StoredRun:
    """A stored run: metrics, trades, and equity/drawdown/prices as lists of (ts, value) for charting."""
    run = bt_store.get_run(svc.engine, run_id)
    s = run["series"] or {}

    def points(col: str) -> list[SeriesPoint]:
        return [SeriesPoint(t, v) for t, v in zip(s.get("ts", []), s.get(col, []), strict=False)]

    return StoredRun(**run, equity=points("equity"), drawdown=points("drawdown"), prices=points("price"))


@dataclass(frozen=True)
class ReportPaths:
    html: str
    json: str


def report(svc: Services, run_id: int, out_dir: str | Path = "reports", cdn: bool = False) -> ReportPaths:
    """Write the HTML (plotly) and JSON reports of a stored run; returns their paths."""
    from oneprice.backtest.report import write_report  # plotly loads only when a report is written

    page, js = write_report(bt_store.get_run(svc.engine, run_id), Path(out_dir), cdn)
    return ReportPaths(str(page), str(js))
