"""Persistence: backtest runs (for the dashboard) and signal series (written by other work)."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from oneprice.backtest.result import BacktestResult
from oneprice.core.errors import NotFoundError
from oneprice.db import session_scope, upsert
from oneprice.db.models_backtest import BacktestRun, Signal

MAX_POINTS = 5000  # equity/price points kept per run (evenly thinned, last point kept)
MAX_TRADES = 20_000


def jsonable(v: Any) -> Any:
    """Plain JSON values: Decimal -> str (exact), numpy scalars -> Python, NaN/inf -> None, times ISO."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, pd.Timestamp | datetime):
        return None if pd.isna(v) else pd.Timestamp(v).isoformat()
    return v


def _thin(n: int) -> np.ndarray:
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.append(np.linspace(0, n - 1, MAX_POINTS).astype(np.int64), n - 1))


def series_of(res: BacktestResult) -> dict[str, Any]:
    keep = _thin(len(res.index))
    return {
        "ts": [t.isoformat() for t in res.index[keep]],
        "equity": jsonable(res.equity[keep].tolist()),
        "drawdown": jsonable(res.drawdown()[keep].tolist()),
        "price": jsonable(np.asarray(res.price, dtype=np.float64)[keep].tolist()),
        "price_label": res.meta.get("price_label", "close"),
        "points": len(keep),
        "bars": len(res.index),
    }


def trades_of(res: BacktestResult) -> list[dict[str, Any]]:
    t = res.trades.head(MAX_TRADES)
    return [jsonable(r) for r in t.to_dict("records")]


def save_run(engine: Engine, res: BacktestResult, **fields: Any) -> int:
    """Persist ``res`` with its metrics, thinned series and trades; returns the run id."""
    m = res.meta
    row = BacktestRun(
        kind=fields.pop("kind", "bars"),
        strategy=m.get("strategy", ""),
        engine=m.get("engine", "vector"),
        fill=m.get("fill", ""),
        exchange=m.get("exchange", "") or "",
        symbol=m.get("symbol", "") or "",
        timeframe=m.get("timeframe", "") or "",
        params=jsonable(m.get("params", {})),
        costs=jsonable(m.get("cost", {})),
        metrics=jsonable(res.metrics()),
        series=series_of(res),
        trades=trades_of(res),
        start=res.index[0].to_pydatetime() if len(res.index) else None,
        end=res.index[-1].to_pydatetime() if len(res.index) else None,
        **fields,
    )
    with session_scope(engine) as s:
        s.add(row)
        s.flush()
        return int(row.id)


def run_dict(r: BacktestRun, full: bool = True) -> dict[str, Any]:
    d = {
        "run_id": r.id,
        "created_at": r.created_at.isoformat(),
        "status": r.status,
        "kind": r.kind,
        "strategy": r.strategy,
        "engine": r.engine,
        "fill": r.fill,
        "exchange": r.exchange,
        "symbol": r.symbol,
        "timeframe": r.timeframe,
        "source": r.source,
        "start": r.start.isoformat() if r.start else None,
        "end": r.end.isoformat() if r.end else None,
        "params": r.params,
        "costs": r.costs,
        "metrics": r.metrics,
        "error": r.error,
    }
    if full:
        d.update(series=r.series, trades=r.trades)
    return d


def list_runs(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    with session_scope(engine) as s:
        rows = s.scalars(select(BacktestRun).order_by(BacktestRun.id.desc()).limit(limit)).all()
        return [run_dict(r, full=False) for r in rows]


def get_run(engine: Engine, run_id: int) -> dict[str, Any]:
    with session_scope(engine) as s:
        r = s.get(BacktestRun, run_id)
        if r is None:
            last = s.scalars(select(BacktestRun.id).order_by(BacktestRun.id.desc()).limit(10)).all()
            raise NotFoundError(f"no backtest run {run_id}; latest run ids: {list(last) or 'none'}")
        return run_dict(r)


def write_signals(
    engine: Engine,
    source: str,
    key: str,
    points: list[tuple[datetime, float]],
    market_id: int | None = None,
    meta: dict[str, Any] | None = None,
) -> int:
    """Upsert a signal series (idempotent on source, key, ts); returns rows inserted or changed."""
    rows = [
        {
            "source": source,
            "key": key,
            "market_id": market_id,
            "ts": ts,
            "value": float(v),
            "meta": meta or {},
        }
        for ts, v in points
        if v is not None and math.isfinite(float(v))
    ]
    with session_scope(engine) as s:
        counts, _ = upsert(s, Signal, rows, keys=("source", "key", "ts"))
    return counts.inserted + counts.updated


def read_signals(engine: Engine, source: str, key: str) -> pd.Series:
    """The stored series for (source, key) as a float Series on a UTC index; NotFoundError lists sources."""
    with session_scope(engine) as s:
        rows = s.execute(
            select(Signal.ts, Signal.value)
            .where(Signal.source == source, Signal.key == key)
            .order_by(Signal.ts)
        ).all()
        if not rows:
            have = s.execute(select(Signal.source, Signal.key).distinct()).all()
            listing = ", ".join(f"{a}:{b}" for a, b in have) or "none"
            raise NotFoundError(f"no signals from {source!r} for {key!r}; stored (source:key): {listing}")
    idx = pd.DatetimeIndex([r[0] for r in rows])
    return pd.Series([r[1] for r in rows], index=idx, dtype=np.float64)
