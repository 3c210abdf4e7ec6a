"""Parameter sweeps and walk-forward analysis, in parallel.

Local processes (``concurrent.futures.ProcessPoolExecutor``) by default; a Dask distributed cluster
when given a scheduler address (``tcp://host:8786``) or a ``distributed.Client``. Combinations are
sent in chunks so each task amortises its data transfer; invalid ones (e.g. fast >= slow) are skipped
and counted. A grid is counted before it is expanded: one over ``max_combos`` combinations (or a range
over that many values) is refused with ``InputError``, never built.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from oneprice.backtest.costs import CostModel
from oneprice.backtest.data import Bars
from oneprice.backtest.metrics import bars_per_year, drawdown_stats, series_stats
from oneprice.backtest.run import backtest
from oneprice.backtest.strategies import get_strategy
from oneprice.core.errors import InputError

MAX_COMBOS = 10_000  # default cap on combinations per sweep (``ONEPRICE_BACKTEST_MAX_GRID``)

SWEEP_METRICS = (
    "final_equity",
    "total_return",
    "annual_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "trade_count",
    "win_rate",
    "fees_paid",
)


def span(name: str, lo: float, hi: float, step: float = 1.0, max_values: int = MAX_COMBOS) -> list[float]:
    """The inclusive range lo, lo+step, ..., <= hi; ``InputError`` for a bad or oversized range (the
    count is checked before a single value is made)."""
    if not all(math.isfinite(x) for x in (lo, hi, step)) or step <= 0 or hi < lo:
        raise InputError(f"bad range {name}={lo:g}:{hi:g}:{step:g}: need finite lo <= hi and step > 0")
    n = math.floor((hi - lo) / step + 1e-9) + 1
    if n > max_values:
        raise InputError(f"range {name}={lo:g}:{hi:g}:{step:g} has {n:,} values; at most {max_values:,}")
    return [lo + i * step for i in range(n)]


def check_grid(space: Mapping[str, Sequence[Any]], max_combos: int = MAX_COMBOS) -> int:
    """The number of combinations of ``space``; ``InputError`` when empty or over ``max_combos``."""
    n = math.prod(len(v) for v in space.values())
    if n == 0:
        raise InputError("the grid is empty: give each parameter at least one value")
    if n > max_combos:
        sizes = " x ".join(f"{k}:{len(v)}" for k, v in space.items())
        raise InputError(f"the grid has {n:,} combinations ({sizes}); at most {max_combos:,}")
    return n


def grid(space: Mapping[str, Sequence[Any]], max_combos: int = MAX_COMBOS) -> list[dict[str, Any]]:
    """Every combination of the values in ``space`` (a dict of name -> list of values)."""
    check_grid(space, max_combos)
    keys = list(space)
    return [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*(space[k] for k in keys))]


def quick_metrics(equity: np.ndarray, pnl: np.ndarray, fees: float, ppy: float) -> dict[str, Any]:
    """The figures a sweep ranks by (a subset of ``compute_metrics``, without the benchmark)."""
    out: dict[str, Any] = {"final_equity": float(equity[-1])}
    out.update(series_stats(equity, ppy))
    mdd, _ = drawdown_stats(equity)
    out["max_drawdown"] = mdd
    ann = out.get("annual_return")
    out["calmar"] = ann / -mdd if ann is not None and mdd < 0 and math.isfinite(ann / -mdd) else None
    out["trade_count"] = len(pnl)
    out["win_rate"] = float((pnl > 0).mean()) if len(pnl) else None
    out["fees_paid"] = float(fees)
    return out


def _run_chunk(
    bars: Bars, strategy: str, combos: list[dict[str, Any]], kw: dict[str, Any]
) -> list[dict[str, Any]]:
    ppy = bars_per_year(bars.index)
    rows = []
    for params in combos:
        r = backtest(bars, strategy, params, **kw)
        rows.append({**params, **quick_metrics(r.equity, r.trade_pnl(), r.fees, ppy)})
    return rows


def _client(scheduler: Any) -> tuple[Any, bool]:
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    return Client(scheduler), True


def sweep(
    bars: Bars,
    strategy: str,
    combos: Mapping[str, Sequence[Any]] | list[dict[str, Any]],
    cost: CostModel | None = None,
    cash: float = 10_000.0,
    fill: str = "close",
    unit: float = 0.0,
    signal: np.ndarray | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    chunks_per_worker: int = 4,
    max_combos: int = MAX_COMBOS,
) -> pd.DataFrame:
    """Backtest every combination; one row per valid combination with its parameters and metrics.

    ``df.attrs["skipped"]`` counts the invalid combinations. ``workers=1`` runs in this process.
    """
    strat = get_strategy(strategy)
    todo = grid(combos, max_combos) if isinstance(combos, Mapping) else list(combos)
    if len(todo) > max_combos:
        raise InputError(f"{len(todo):,} combinations; at most {max_combos:,}")
    valid, skipped = [], 0
    for c in todo:
        try:
            strat.resolve(c)
            valid.append(c)
        except ValueError:
            skipped += 1
    kw = {"cost": cost or CostModel(), "cash": cash, "fill": fill, "unit": unit, "signal": signal}
    n_workers = workers or (os.cpu_count() or 1)
    n_chunks = max(1, min(len(valid), n_workers * chunks_per_worker))
    parts = [p.tolist() for p in np.array_split(np.array(valid, dtype=object), n_chunks)] if valid else []
    rows: list[dict[str, Any]] = []
    if scheduler is not None:
        client, own = _client(scheduler)
        try:
            # hash=False: a key of its own. Content-hashed keys are shared with any earlier sweep of the
            # same bars on this cluster, and that sweep's release can drop the data under this one
            # ("lost dependencies").
            data = client.scatter(bars, broadcast=True, hash=False)
            futures = [client.submit(_run_chunk, data, strategy, p, kw, pure=False) for p in parts]
            for f in futures:
                rows.extend(f.result())
        finally:
            if own:
                client.close()
    elif n_workers == 1 or len(parts) <= 1:
        for p in parts:
            rows.extend(_run_chunk(bars, strategy, p, kw))
    else:
        with ProcessPoolExecutor(max_workers=n_workers) as ex:
            for out in ex.map(
                _run_chunk, [bars] * len(parts), [strategy] * len(parts), parts, [kw] * len(parts)
            ):
                rows.extend(out)
    df = pd.DataFrame(rows)
    df.attrs["skipped"] = skipped
    return df


def walk_forward(
    bars: Bars,
    strategy: str,
    combos: Mapping[str, Sequence[Any]] | list[dict[str, Any]],
    train: int,
    test: int,
    objective: str = "sharpe",
    cost: CostModel | None = None,
    cash: float = 10_000.0,
    fill: str = "close",
    workers: int | None = None,
    scheduler: Any = None,
    max_combos: int = MAX_COMBOS,
) -> dict[str, Any]:
    """Rolling walk-forward: on each ``train``-bar window pick the best combination by ``objective``,
    then trade it on the following ``test`` bars (out of sample). Returns the folds and the stitched
    out-of-sample equity (each fold restarts from the previous fold's final equity)."""
    if train < 2 or test < 1 or train + test > len(bars):
        raise ValueError(f"need train >= 2, test >= 1 and train + test <= {len(bars)} bars")
    if isinstance(combos, Mapping):
        check_grid(combos, max_combos)
    folds, curve, idx = [], [], []
    equity = cash
    for start in range(0, len(bars) - train - test + 1, test):
        tr = bars.slice(bars.index[start], bars.index[start + train - 1])
        table = sweep(
            tr,
            strategy,
            combos,
            cost,
            cash,
            fill,
            workers=workers,
            scheduler=scheduler,
            max_combos=max_combos,
        )
        table = table.dropna(subset=[objective])
        if table.empty:
            continue
        best = table.sort_values(objective, ascending=False).iloc[0]
        params = {k: best[k] for k in get_strategy(strategy).params if k in best}
        # the test window starts after the train window; indicators warm up on the train bars
        full = bars.slice(bars.index[start], bars.index[start + train + test - 1])
        r = backtest(full, strategy, params, cost, cash, fill)
        eq = r.equity[train - 1 :] / r.equity[train - 1] * equity
        folds.append(
            {
                "train_start": tr.index[0],
                "test_start": full.index[train],
                "test_end": full.index[-1],
                "params": params,
                f"train_{objective}": float(best[objective]),
                "test_return": float(eq[-1] / eq[0] - 1),
            }
        )
        curve.append(eq[1:])
        idx.append(full.index[train:])
        equity = float(eq[-1])
    oos = (
        pd.Series(np.concatenate(curve), index=idx[0].append(idx[1:]) if idx else None, name="equity")
        if curve
        else pd.Series(dtype=float)
    )
    return {"folds": folds, "equity": oos, "final_equity": equity, "total_return": equity / cash - 1.0}
