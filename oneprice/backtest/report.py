"""Reports: one self-contained HTML page with interactive plotly charts, and JSON metrics.

Charts: equity (and the buy-and-hold benchmark scaled to the same start), drawdown, and trades
on the price (entries and exits marked). Works from a stored run (``store.get_run``'s dict).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

METRIC_ORDER = (
    "total_return",
    "annual_return",
    "volatility",
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
    "beta",
    "information_ratio",
)
PCT = {
    "total_return",
    "annual_return",
    "volatility",
    "max_drawdown",
    "win_rate",
    "exposure",
    "benchmark_total_return",
    "excess_return",
}


def fmt(name: str, v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.2%}" if name in PCT else f"{v:,.4f}"
    return str(v)


def figure(run: dict[str, Any]) -> go.Figure:
    s = run["series"]
    ts, eq, dd, px = s["ts"], s["equity"], s["drawdown"], s["price"]
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        row_heights=[0.4, 0.2, 0.4],
        subplot_titles=("Equity", "Drawdown", f"Trades on {s.get('price_label', 'price')}"),
    )
    fig.add_trace(go.Scatter(x=ts, y=eq, name="strategy", line={"width": 1.5}), row=1, col=1)
    first = next((p for p in px if p is not None), None)
    if run.get("kind") == "bars" and first and eq:
        bench = [None if p is None else p / first * eq[0] for p in px]
        fig.add_trace(
            go.Scatter(x=ts, y=bench, name="buy & hold", line={"width": 1, "dash": "dot"}), row=1, col=1
        )
    fig.add_trace(go.Scatter(x=ts, y=dd, name="drawdown", fill="tozeroy", line={"width": 1}), row=2, col=1)
    fig.add_trace(go.Scatter(x=ts, y=px, name=s.get("price_label", "price"), line={"width": 1}), row=3, col=1)
    trades = run.get("trades") or []
    if run.get("kind") == "bars":
        for side, key, sym, color in (
            ("entry", "entry", "triangle-up", "green"),
            ("exit", "exit", "triangle-down", "red"),
        ):
            pts = [(t[f"{key}_time"], t[f"{key}_price"]) for t in trades if t.get(f"{key}_time")]
            if pts:
                fig.add_trace(
                    go.Scatter(
                        x=[p[0] for p in pts],
                        y=[p[1] for p in pts],
                        mode="markers",
                        name=side,
                        marker={"symbol": sym, "size": 8, "color": color},
                    ),
                    row=3,
                    col=1,
                )
    fig.update_yaxes(tickformat=".0%", row=2, col=1)
    fig.update_layout(height=900, hovermode="x unified", margin={"l": 50, "r": 20, "t": 40, "b": 30})
    return fig


def html_report(run: dict[str, Any], cdn: bool = False) -> str:
    """The page; plotly.js is embedded (works offline) unless ``cdn`` loads it from the CDN."""
    m = run.get("metrics") or {}
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(fmt(k, m.get(k)))}</td></tr>"
        for k in METRIC_ORDER
        if k in m
    )
    title = f"Backtest #{run['run_id']}: {run['strategy']} on {run['symbol']} {run.get('timeframe', '')}"
    params = html.escape(json.dumps(run.get("params", {})))
    costs = html.escape(json.dumps(run.get("costs", {})))
    chart = figure(run).to_html(full_html=False, include_plotlyjs="cdn" if cdn else True)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:20px}td{padding:2px 12px}</style></head><body>"
        f"<h2>{html.escape(title)}</h2><p>{html.escape(str(run.get('start')))} to "
        f"{html.escape(str(run.get('end')))} &middot; engine {html.escape(run.get('engine', ''))}, "
        f"fill {html.escape(run.get('fill', ''))} &middot; params {params} &middot; costs {costs}</p>"
        f"<table>{rows}</table>{chart}</body></html>"
    )


def write_report(run: dict[str, Any], out_dir: Path, cdn: bool = False) -> tuple[Path, Path]:
    """Write ``run_<id>.html`` and ``run_<id>.json`` (metrics, params, costs) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / f"run_{run['run_id']}.html"
    page.write_text(html_report(run, cdn), encoding="utf-8")
    meta = {
        k: run.get(k)
        for k in (
            "run_id",
            "strategy",
            "symbol",
            "timeframe",
            "exchange",
            "engine",
            "fill",
            "start",
            "end",
            "params",
            "costs",
            "metrics",
        )
    }
    js = out_dir / f"run_{run['run_id']}.json"
    js.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return page, js
