"""Plotly figures for the pages; each takes service results and returns a figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from oneprice.app.common import num

if TYPE_CHECKING:
    from oneprice.services.arbitrage import DeviationPoint
    from oneprice.services.backtest import SeriesPoint, StoredRun
    from oneprice.services.ingest_queries import QuotePoint


def _layout(fig: go.Figure, height: int, title: str = "", **kw: Any) -> go.Figure:
    fig.update_layout(
        height=height,
        title=title or None,
        margin={"l": 10, "r": 10, "t": 36 if title else 10, "b": 10},
        legend={"orientation": "h", "y": -0.15},
        **kw,
    )
    return fig


def price_history(history: Sequence[QuotePoint]) -> go.Figure:
    """Bid, ask and last per outcome over time (probabilities)."""
    fig = go.Figure()
    for outcome in sorted({str(h.outcome) for h in history}):
        pts = sorted((h for h in history if str(h.outcome) == outcome), key=lambda h: str(h.ts))
        for field, dash in (("bid", "dot"), ("ask", "dot"), ("last", "solid")):
            ys = [num(getattr(p, field)) for p in pts]
            if any(y is not None for y in ys):
                fig.add_scatter(
                    x=[p.ts for p in pts],
                    y=ys,
                    mode="lines+markers",
                    name=f"{outcome} {field}",
                    line={"dash": dash},
                )
    return _layout(fig, 340, yaxis_title="probability")


def deviation(history: Sequence[DeviationPoint]) -> go.Figure:
    """Mid-price gap and executable edge of one pair, one point per scan."""
    pts = sorted(history, key=lambda h: str(h.ts))
    ts = [p.ts for p in pts]
    fig = go.Figure()
    fig.add_scatter(x=ts, y=[num(p.mid_gap) for p in pts], mode="lines+markers", name="mid-price gap")
    fig.add_scatter(
        x=ts,
        y=[num(p.executable_edge) for p in pts],
        mode="lines+markers",
        name="executable edge (after fees, depth)",
    )
    fig.add_hline(y=0, line={"color": "grey", "dash": "dash"})
    return _layout(fig, 360, yaxis_title="$ per contract")


def _series(points: Sequence[SeriesPoint]) -> tuple[list[Any], list[float | None]]:
    return [p.ts for p in points], [num(p.value) for p in points]


def equity(runs: Mapping[Any, StoredRun], title: str = "Equity") -> go.Figure:
    """Equity curves of one or more runs, keyed by run id."""
    fig = go.Figure()
    for rid, run in runs.items():
        xs, ys = _series(run.equity)
        fig.add_scatter(x=xs, y=ys, mode="lines", name=f"run {rid} {run.strategy}".strip())
    return _layout(fig, 300, title, yaxis_title="equity")


def drawdown(run: StoredRun) -> go.Figure:
    xs, ys = _series(run.drawdown)
    fig = go.Figure()
    fig.add_scatter(x=xs, y=ys, mode="lines", fill="tozeroy", name="drawdown", line={"color": "firebrick"})
    return _layout(fig, 220, "Drawdown", yaxis_tickformat=".0%")


def trades(run: StoredRun) -> go.Figure:
    """The traded price with entries (long ▲, short ▼) and exits (✕)."""
    xs, ys = _series(run.prices)
    fig = go.Figure()
    fig.add_scatter(x=xs, y=ys, mode="lines", name="price", line={"color": "grey"})
    rows = run.trades or []
    for direction, colour, symbol in (("long", "green", "triangle-up"), ("short", "red", "triangle-down")):
        pts = [t for t in rows if str(t.get("direction", "long")) == direction]
        if pts:
            fig.add_scatter(
                x=[t.get("entry_time") for t in pts],
                y=[num(t.get("entry_price")) for t in pts],
                mode="markers",
                name=f"{direction} entry",
                marker={"color": colour, "symbol": symbol, "size": 10},
            )
    exits = [t for t in rows if t.get("exit_time")]
    if exits:
        fig.add_scatter(
            x=[t.get("exit_time") for t in exits],
            y=[num(t.get("exit_price")) for t in exits],
            mode="markers",
            name="exit",
            marker={"color": "black", "symbol": "x", "size": 8},
        )
    return _layout(fig, 300, "Trades")
