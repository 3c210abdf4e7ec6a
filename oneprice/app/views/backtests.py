"""Backtests: run a strategy with parameters; equity, drawdown, trades and metrics; compare runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from oneprice.app import common as ui

url = ui.require_db()
st.title("Backtests")


def _param_input(name: str, spec: Any, key: str) -> Any:
    """A widget for one strategy parameter from its schema: a default, or a dict with default/min/max."""
    info = spec if isinstance(spec, dict) else {"default": spec}
    default = info.get("default")
    help_text = info.get("help") or info.get("description")
    choices = info.get("choices") or info.get("enum")
    if choices:
        return st.selectbox(
            name,
            list(choices),
            index=list(choices).index(default) if default in choices else 0,
            key=key,
            help=help_text,
        )
    if isinstance(default, bool) or info.get("type") == "bool":
        return st.checkbox(name, value=bool(default), key=key, help=help_text)
    if isinstance(default, int) or info.get("type") == "int":
        return int(
            st.number_input(
                name,
                value=int(default or 0),
                step=1,
                key=key,
                help=help_text,
                min_value=None if info.get("min") is None else int(info["min"]),
                max_value=None if info.get("max") is None else int(info["max"]),
            )
        )
    if isinstance(default, float) or info.get("type") in ("float", "number"):
        lo, hi = info.get("min"), info.get("max")
        return float(
            st.number_input(
                name,
                value=float(default or 0.0),
                key=key,
                help=help_text,
                format="%.4f",
                min_value=None if lo is None else float(lo),
                max_value=None if hi is None else float(hi),
            )
        )
    return st.text_input(name, value="" if default is None else str(default), key=key, help=help_text)


def _series() -> list[dict[str, Any]]:
    overview = ui.fetch("Bar series", "ingest", "overview", quiet=True, url=url)
    return list((overview or {}).get("bar_series") or [])


def _day(value: Any, fallback: date) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            return fallback
    return fallback


def _run_form(strategies: dict[str, Any]) -> None:
    c0, c1 = st.columns(2)
    name = c0.selectbox("Strategy", list(strategies), key="bt_strategy")
    series = _series()
    labels = {
        i: f"{s['exchange']} {s['symbol']} {s['timeframe']} ({s['bars']} bars)" for i, s in enumerate(series)
    }
    chosen = (
        c1.selectbox("Bars", list(labels), format_func=lambda i: labels[i], key="bt_series")
        if series
        else None
    )
    if chosen is None:
        c1.caption(f"No bars stored: run `{ui.CMD_BARS}` or `{ui.CMD_INGEST}`; or type a series below.")
    picked = series[chosen] if chosen is not None else {}
    with st.form("bt_form"):
        c1, c2, c3 = st.columns(3)
        symbol = c1.text_input("Symbol", str(picked.get("symbol", "BTC/USDT")), key=f"bt_symbol_{chosen}")
        tfs = ["1h", "4h", "1d"]
        tf = str(picked.get("timeframe", "1d"))
        timeframe = c2.selectbox(
            "Timeframe", tfs, index=tfs.index(tf) if tf in tfs else 2, key=f"bt_tf_{chosen}"
        )
        exchange = c3.text_input(
            "Exchange", str(picked.get("exchange", "binance")), key=f"bt_exchange_{chosen}"
        )
        d1, d2, d3 = st.columns(3)
        start = d1.date_input("Start", _day(picked.get("first"), date(2024, 1, 1)), key=f"bt_start_{chosen}")
        end = d2.date_input("End", _day(picked.get("last"), date(2025, 2, 1)), key=f"bt_end_{chosen}")
        fee = d3.number_input(
            "Fee per trade (fraction)", 0.0, 0.05, 0.001, 0.0005, format="%.4f", key="bt_fee"
        )
        spec = strategies.get(name) or {}
        schema = spec.get("params", spec) if isinstance(spec, dict) else {}
        if isinstance(spec, dict) and spec.get("help"):
            st.caption(str(spec["help"]))
        if isinstance(spec, dict) and spec.get("needs_signal"):
            st.caption("This strategy trades a stored signal series (the `signals` table).")
        params: dict[str, Any] = {}
        if isinstance(schema, dict) and schema:
            st.markdown("**Parameters**")
            pcols = st.columns(min(len(schema), 4))
            for i, (pname, pspec) in enumerate(schema.items()):
                with pcols[i % len(pcols)]:
                    params[pname] = _param_input(pname, pspec, key=f"bt_p_{name}_{pname}")
        submitted = st.form_submit_button("Run backtest", type="primary")
    if submitted:
        with st.spinner("Running the backtest..."):
            result = ui.act(
                "Backtest",
                "backtest",
                "run_backtest",
                strategy=name,
                symbol=symbol,
                timeframe=timeframe,
                start=datetime.combine(start, time.min, UTC),
                end=datetime.combine(end, time.max, UTC),
                fee=float(fee),
                params=params,
                exchange=exchange,
                url=url,
            )
        if result:
            st.session_state["bt_flash"] = f"Run #{result.get('run_id')} finished."
            st.session_state["bt_view"] = [result.get("run_id")]
            st.rerun()


def _charts(run: dict[str, Any], rid: Any) -> None:
    equity = run.get("equity") or []
    drawdown = run.get("drawdown") or []
    fig = go.Figure()
    fig.add_scatter(
        x=[p.get("ts") for p in equity],
        y=[ui.num(p.get("equity", p.get("value"))) for p in equity],
        mode="lines",
        name="equity",
    )
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="Equity")
    st.plotly_chart(fig, key=f"bt_eq_{rid}")
    if drawdown:
        fig = go.Figure()
        fig.add_scatter(
            x=[p.get("ts") for p in drawdown],
            y=[ui.num(p.get("drawdown", p.get("value"))) for p in drawdown],
            mode="lines",
            fill="tozeroy",
            name="drawdown",
            line={"color": "firebrick"},
        )
        fig.update_layout(
            height=220, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="Drawdown", yaxis_tickformat=".0%"
        )
        st.plotly_chart(fig, key=f"bt_dd_{rid}")
    prices, trades = run.get("prices") or [], run.get("trades") or []
    if prices:
        fig = go.Figure()
        fig.add_scatter(
            x=[p.get("ts") for p in prices],
            y=[ui.num(p.get("close", p.get("price"))) for p in prices],
            mode="lines",
            name="close",
            line={"color": "grey"},
        )
        for side, colour, symbol in (("buy", "green", "triangle-up"), ("sell", "red", "triangle-down")):
            pts = [t for t in trades if str(t.get("side", "")).lower().startswith(side)]
            if pts:
                fig.add_scatter(
                    x=[t.get("ts") for t in pts],
                    y=[ui.num(t.get("price")) for t in pts],
                    mode="markers",
                    name=side,
                    marker={"color": colour, "symbol": symbol, "size": 10},
                )
        fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="Trades")
        st.plotly_chart(fig, key=f"bt_tr_{rid}")
    if trades:
        st.dataframe(ui.frame(trades), hide_index=True, height=220)
    else:
        st.caption("No trades in this run.")


strategies = ui.fetch("Strategies", "backtest", "list_strategies")
flash = st.session_state.pop("bt_flash", None)
if flash:
    st.success(flash)
if strategies:
    with st.expander("Run a backtest", expanded=True):
        _run_form(dict(strategies))
elif strategies is not ui.UNAVAILABLE:
    st.info("No strategies are registered.")

st.subheader("Runs")
runs = ui.fetch("Backtest runs", "backtest", "list_runs", limit=50, url=url)
if runs is ui.UNAVAILABLE:
    st.stop()
if not runs:
    ui.empty_state("No backtest runs yet", ui.CMD_BACKTEST)
    st.stop()
st.dataframe(ui.frame(runs), hide_index=True, height=220)
ids = [r.get("run_id", r.get("id")) for r in runs]
st.session_state["bt_view"] = [i for i in st.session_state.get("bt_view", []) if i in ids] or ids[:1]
chosen = st.multiselect("View / compare runs", ids, key="bt_view")
details = {rid: ui.fetch(f"Run {rid}", "backtest", "get_run", run_id=rid, url=url) for rid in chosen}
details = {rid: d for rid, d in details.items() if d}
if not details:
    st.stop()

metric_rows = [
    {
        "run": rid,
        **{k: ui.num(v) if ui.num(v) is not None else v for k, v in (d.get("metrics") or {}).items()},
    }
    for rid, d in details.items()
]
st.subheader("Metrics")
st.dataframe(ui.frame(metric_rows).set_index("run").T, height=min(40 + 35 * len(metric_rows[0]), 500))
if len(details) > 1:
    fig = go.Figure()
    for rid, d in details.items():
        eq = d.get("equity") or []
        fig.add_scatter(
            x=[p.get("ts") for p in eq],
            y=[ui.num(p.get("equity", p.get("value"))) for p in eq],
            mode="lines",
            name=f"run {rid} ({d.get('strategy', '')})",
        )
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="Equity, compared")
    st.plotly_chart(fig, key="bt_compare")
for col, (rid, d) in zip(st.columns(len(details)), details.items(), strict=True):
    with col:
        st.markdown(f"**Run {rid}** · {d.get('strategy', '')} {d.get('symbol', '')} {d.get('timeframe', '')}")
        _charts(d, rid)
