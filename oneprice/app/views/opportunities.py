"""Opportunities: live executable edges, bound violations beside equivalences, deviation history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from oneprice.app import common as ui
from oneprice.config import get_settings

COLUMNS = [
    "match_id",
    "pair",
    "relation",
    "edge",
    "size",
    "fees",
    "annualized_return",
    "book_age_s",
    "excluded",
]

url = ui.require_db()
st.title("Opportunities")

refresh_s = max(2.0, float(get_settings().dashboard_refresh_s))
auto = st.toggle(f"Auto-refresh every {refresh_s:g}s", value=True, key="op_auto")


def _row(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "match_id": ui.pick(o, "match_id", "id"),
        "pair": ui.pick(o, "pair", "label", default=""),
        "relation": o.get("relation"),
        "edge": ui.num(ui.pick(o, "edge", "net_edge")),
        "size": ui.num(ui.pick(o, "size", "contracts")),
        "fees": ui.num(ui.pick(o, "fees", "fee")),
        "annualized_return": ui.num(ui.pick(o, "annualized_return", "annualised_return", "apr")),
        "book_age_s": ui.num(ui.pick(o, "book_age_s", "book_age")),
        "excluded": ui.pick(o, "excluded_reason", "excluded", default=""),
    }


COLUMN_CONFIG = {
    "edge": st.column_config.NumberColumn("edge / contract", format="%.4f"),
    "size": st.column_config.NumberColumn("size (contracts)", format="%.0f"),
    "fees": st.column_config.NumberColumn("fees ($)", format="%.2f"),
    "annualized_return": st.column_config.NumberColumn("annualised return", format="percent"),
    "book_age_s": st.column_config.NumberColumn("book age (s)", format="%.0f"),
}


@st.fragment(run_every=timedelta(seconds=refresh_s) if auto else None)
def live_table() -> None:
    opps = ui.fetch("Opportunities", "arbitrage", "latest_opportunities", live=True, url=url)
    if opps is ui.UNAVAILABLE:
        return
    summary = ui.fetch("Deviation summary", "arbitrage", "deviation_summary", live=True, url=url)
    if summary:
        items = [
            (k, v) for k, v in summary.items() if isinstance(v, int | float) and not isinstance(v, bool)
        ][:6]
        for col, (k, v) in zip(st.columns(max(len(items), 1)), items, strict=False):
            col.metric(k.replace("_", " "), f"{v:,.4g}")
    if not opps:
        ui.empty_state("No opportunities yet", "oneprice arbitrage scan --source replay")
        return
    rows = [_row(o) for o in opps]
    kinds = {"equivalence": "Equivalence edges", "bound": "No-arbitrage bound violations"}
    cols = st.columns(2)
    for col, (kind, title) in zip(cols, kinds.items(), strict=True):
        with col:
            st.subheader(title)
            part = [r for r, o in zip(rows, opps, strict=True) if str(o.get("kind", "equivalence")) == kind]
            if part:
                st.dataframe(ui.frame(part, COLUMNS), hide_index=True, column_config=COLUMN_CONFIG)
            else:
                st.caption(f"No {kind} opportunities in the latest scan.")
    st.caption(
        "Edges are net of each venue's fees, walked through book depth; refreshed from the latest scan."
    )


live_table()

st.subheader("Deviation history")
opps_all = ui.fetch("Opportunities", "arbitrage", "latest_opportunities", live=True, quiet=True, url=url)
if opps_all is ui.UNAVAILABLE:
    st.stop()
pairs: dict[int, str] = {}
for o in opps_all or []:
    mid = ui.pick(o, "match_id", "id")
    if mid is not None:
        pairs.setdefault(int(mid), str(ui.pick(o, "pair", "label", default=f"match {mid}")))
if not pairs:
    ui.empty_state("No scanned pairs to chart", "oneprice arbitrage scan --source replay")
    st.stop()
match_id = st.selectbox("Pair", list(pairs), format_func=lambda i: f"#{i} {pairs[i]}", key="op_pair")
history = ui.fetch(
    "Deviation history", "arbitrage", "deviation_history", live=True, match_id=match_id, url=url
)
if history is ui.UNAVAILABLE:
    st.stop()
if not history:
    st.info("No deviation history recorded for this pair yet; every scan adds a point.")
    st.stop()
pts = sorted(history, key=lambda h: str(h.get("ts")))
fig = go.Figure()
fig.add_scatter(
    x=[p.get("ts") for p in pts],
    y=[ui.num(p.get("mid_gap")) for p in pts],
    mode="lines+markers",
    name="mid gap",
)
fig.add_scatter(
    x=[p.get("ts") for p in pts],
    y=[ui.num(p.get("executable_edge")) for p in pts],
    mode="lines+markers",
    name="executable edge (net)",
)
fig.add_hline(y=0, line={"color": "grey", "dash": "dash"})
fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis_title="per contract")
st.plotly_chart(fig, key="op_history")
