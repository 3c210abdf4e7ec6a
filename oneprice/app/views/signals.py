"""Signals: daily tweet sentiment against BTC's price, the PreBit probabilities, and its rule's backtest."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from oneprice.app import common as ui
from oneprice.services import signals as signals_svc

ui.require_db()
st.title("Signals")

CMD_BUILD = "oneprice signals prebit build --btc BTC.csv --tweets tweets.csv.gz --out ds.parquet"
CMD_EVAL = "oneprice signals prebit eval --data ds.parquet --write-db"

stored = ui.fetch("Signal series", signals_svc.catalog) or []
if not stored:
    ui.empty_state("No signals stored", CMD_BUILD)
    st.stop()
keys = sorted({r.key for r in stored})
key = st.selectbox("Series key", keys, key="sig_key")
have = {r.source for r in stored if r.key == key}


def _rows(source: str) -> list[signals_svc.SignalPoint]:
    if source not in have:
        return []
    return ui.fetch(source, signals_svc.series, source=source, key=key) or []


st.subheader("Tweet sentiment against price")
sent = _rows("sentiment")
if sent:
    fig = go.Figure()
    ts = [r.ts for r in sent]
    fig.add_scatter(x=ts, y=[r.meta.get("close") for r in sent], name="close", yaxis="y1")
    fig.add_scatter(x=ts, y=[r.value for r in sent], name="mean sentiment", yaxis="y2", opacity=0.6)
    fig.update_layout(
        height=380,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"title": "close", "type": "log"},
        yaxis2={"title": "sentiment (p_bull - p_bear)", "overlaying": "y", "side": "right"},
        legend={"orientation": "h", "y": -0.15},
    )
    st.plotly_chart(fig, use_container_width=True)
else:
    ui.empty_state("No daily sentiment for this key", CMD_BUILD)

st.subheader("PreBit: probability of an extreme move tomorrow")
up, down = _rows("prebit_up"), _rows("prebit_down")
if up or down:
    fig = go.Figure()
    for rows, name in ((up, "P(extreme up)"), (down, "P(extreme down)")):
        fig.add_scatter(x=[r.ts for r in rows], y=[r.value for r in rows], name=name, mode="lines")
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis={"range": [0, 1]})
    st.plotly_chart(fig, use_container_width=True)
else:
    ui.empty_state("No PreBit probabilities for this key", CMD_EVAL)

if "prebit_hold" in have and "prebit_up" in have:
    st.subheader("The rule's backtest (after fees)")
    c1, c2, c3 = st.columns(3)
    rule = c1.selectbox("Rule", ["risk_off", "long_up"], key="sig_rule")
    theta = c2.select_slider("Threshold", [0.5, 0.6, 0.7, 0.8, 0.9, 0.95], value=0.95, key="sig_theta")
    fee = c3.number_input("Fee", 0.0, 0.05, 0.001, 0.0005, format="%.4f", key="sig_fee")
    res = ui.fetch(
        "Rule backtest",
        signals_svc.rule_backtest,
        key=key,
        rule=rule,
        threshold=float(theta),
        fee=float(fee),
    )
    if res and res is not ui.UNAVAILABLE:
        fig = go.Figure()
        for name, r in res.runs.items():
            fig.add_scatter(x=r.equity.ts, y=r.equity.equity, name=name, mode="lines")
        fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis={"type": "log"})
        st.plotly_chart(fig, use_container_width=True)
        st.dataframe(
            [
                {
                    "strategy": name,
                    "trades": r.metrics.get("trade_count"),
                    "return": ui.fmt_pct(r.metrics.get("total_return")),
                    "sharpe": r.metrics.get("sharpe"),
                    "max drawdown": ui.fmt_pct(r.metrics.get("max_drawdown")),
                }
                for name, r in res.runs.items()
            ],
            hide_index=True,
        )
