"""Backtests: run a strategy with parameters; equity, drawdown, trades and metrics; compare runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import streamlit as st

from oneprice.app import charts
from oneprice.app import common as ui
from oneprice.services import alignment as alignment_svc
from oneprice.services import backtest as backtest_svc
from oneprice.services.results import to_json

KEY_METRICS = [
    ("total_return", "Total return", "pct"),
    ("annual_return", "Annual return", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("trade_count", "Trades", "int"),
    ("win_rate", "Win rate", "pct"),
]

ui.require_db()
st.title("Backtests")


def _param_input(name: str, spec: backtest_svc.ParamSpec, key: str) -> Any:
    """A widget for one strategy parameter from its schema (type, default, min, max, help)."""
    default, kind, help_text = spec.default, spec.type, spec.help or None
    lo, hi = spec.min, spec.max
    if kind == "bool" or isinstance(default, bool):
        return st.checkbox(name, value=bool(default), key=key, help=help_text)
    if kind == "int" or (kind is None and isinstance(default, int)):
        return int(
            st.number_input(
                name,
                value=int(default or 0),
                step=1,
                key=key,
                help=help_text,
                min_value=None if lo is None else int(lo),
                max_value=None if hi is None else int(hi),
            )
        )
    if kind == "float" or isinstance(default, float):
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


def _day(value: Any, fallback: date) -> date:
    try:
        return datetime.fromisoformat(str(value)).date() if value else fallback
    except ValueError:
        return fallback


def _target(spec: backtest_svc.StrategyInfo) -> dict[str, Any] | None:
    """What the strategy trades: a stored bar series, or a matched pair for pair strategies."""
    if spec.pair:
        pairs = ui.fetch("Matches", alignment_svc.list_matches, quiet=True, limit=500) or []
        pairs = [m for m in pairs if m.status != "rejected" and m.outcome_map]
        if not pairs:
            ui.empty_state("No hedgeable matched pair to trade", ui.CMD_ALIGN)
            return None
        labels = {m.id: f"#{m.id} {m.relation}: {m.market_a.question[:90]}" for m in pairs}
        mid = st.selectbox("Matched pair", list(labels), format_func=lambda i: labels[i], key="bt_pair")
        return {
            "symbol": f"match:{mid}",
            "timeframe": "1h",
            "exchange": "",
            "first": None,
            "last": None,
            "key": mid,
        }
    series = ui.fetch("Bar series", backtest_svc.available_data, quiet=True) or []
    if not series:
        ui.empty_state("No bars stored", ui.CMD_INGEST)
        return None
    labels = {i: f"{s.exchange} {s.symbol} {s.timeframe} ({s.bars} bars)" for i, s in enumerate(series)}
    i = st.selectbox("Bars", list(labels), format_func=lambda i: labels[i], key="bt_series")
    return {**to_json(series[i]), "key": i}


def _run_form(strategies: dict[str, backtest_svc.StrategyInfo]) -> None:
    name = st.selectbox("Strategy", list(strategies), key="bt_strategy")
    spec = strategies[name]
    if spec.help:
        st.caption(spec.help)
    if spec.needs_signal:
        st.caption("Trades a stored signal series (`signals` table) for this symbol.")
    target = _target(spec)
    if target is None:
        return
    k = f"{name}_{target['key']}"
    with st.form("bt_form"):
        d1, d2, d3 = st.columns(3)
        start = d1.date_input("Start", _day(target.get("first"), date(2020, 1, 1)), key=f"bt_start_{k}")
        end = d2.date_input("End", _day(target.get("last"), date(2025, 2, 11)), key=f"bt_end_{k}")
        fee = d3.number_input(
            "Fee per trade (fraction of notional)", 0.0, 0.05, 0.001, 0.0005, format="%.4f", key="bt_fee"
        )
        schema = spec.params
        params: dict[str, Any] = {}
        if schema:
            pcols = st.columns(min(len(schema), 4))
            for j, (pname, pspec) in enumerate(schema.items()):
                with pcols[j % len(pcols)]:
                    params[pname] = _param_input(pname, pspec, key=f"bt_p_{name}_{pname}")
        submitted = st.form_submit_button("Run backtest", type="primary")
    if submitted:
        with st.spinner("Running the backtest..."):
            result = ui.act(
                "Backtest",
                backtest_svc.run_backtest,
                strategy=name,
                symbol=target["symbol"],
                timeframe=target.get("timeframe") or "1h",
                start=datetime.combine(start, time.min, UTC),
                end=datetime.combine(end, time.max, UTC),
                fee=float(fee),
                params=params,
                exchange=target.get("exchange") or "binance",
            )
        if result:
            st.session_state["bt_flash"] = f"Run #{result.run_id} finished."
            st.session_state["bt_view"] = [result.run_id]
            st.rerun()


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    return {"pct": ui.fmt_pct(value), "int": f"{int(value):,}", "num": f"{ui.num(value) or 0:.2f}"}[kind]


def _run_row(r: backtest_svc.RunRow) -> dict[str, Any]:
    m = r.metrics or {}
    return {
        "run": r.run_id,
        "strategy": r.strategy,
        "symbol": r.symbol,
        "timeframe": r.timeframe,
        "start": ui.fmt_ts(r.start),
        "end": ui.fmt_ts(r.end),
        "params": r.params,
        "total_return": m.get("total_return"),
        "sharpe": m.get("sharpe"),
        "max_drawdown": m.get("max_drawdown"),
        "trades": m.get("trade_count"),
        "status": r.status,
        "error": r.error,
    }


flash = st.session_state.pop("bt_flash", None)
if flash:
    st.success(flash)
strategies = {s.name: s for s in backtest_svc.list_strategies()}
if strategies:
    with st.expander("Run a backtest", expanded=True):
        _run_form(strategies)

st.subheader("Runs")
runs = ui.fetch("Backtest runs", backtest_svc.list_runs, limit=50)
if runs is ui.UNAVAILABLE:
    st.stop()
if not runs:
    ui.empty_state("No backtest runs yet", ui.CMD_BACKTEST)
    st.stop()
st.dataframe(
    ui.frame([_run_row(r) for r in runs]),
    hide_index=True,
    column_config={
        c: st.column_config.NumberColumn(format="percent") for c in ("total_return", "max_drawdown")
    },
)
ids = [r.run_id for r in runs]
st.session_state["bt_view"] = [i for i in st.session_state.get("bt_view", []) if i in ids] or ids[:1]
chosen = st.multiselect("View / compare runs", ids, key="bt_view")
details = {rid: ui.fetch(f"Run {rid}", backtest_svc.get_run, run_id=rid) for rid in chosen}
details = {rid: d for rid, d in details.items() if d}
if not details:
    st.stop()

st.subheader("Metrics")
for rid, d in details.items():
    m = d.metrics or {}
    cols = st.columns(len(KEY_METRICS) + 1)
    cols[0].markdown(f"**Run {rid}**  \n{d.strategy} {d.symbol} {d.timeframe}")
    for col, (key, label, kind) in zip(cols[1:], KEY_METRICS, strict=True):
        col.metric(label, _fmt(m.get(key), kind))
table = ui.frame(
    [
        {"metric": k, **{f"run {rid}": (d.metrics or {}).get(k) for rid, d in details.items()}}
        for k in (next(iter(details.values())).metrics or {})
    ]
)
with st.expander("All metrics", expanded=len(details) > 1):
    st.dataframe(table, hide_index=True)
if len(details) > 1:
    st.plotly_chart(charts.equity(details, "Equity, compared"), key="bt_compare")
for col, (rid, d) in zip(st.columns(len(details)), details.items(), strict=True):
    with col:
        st.markdown(f"**Run {rid}** · {d.strategy} {d.symbol} {d.timeframe}")
        st.plotly_chart(charts.equity({rid: d}), key=f"bt_eq_{rid}")
        st.plotly_chart(charts.drawdown(d), key=f"bt_dd_{rid}")
        if d.prices:
            st.plotly_chart(charts.trades(d), key=f"bt_tr_{rid}")
        if d.trades:
            st.dataframe(ui.frame(d.trades), hide_index=True, height=220)
        else:
            st.caption("No trades in this run.")
