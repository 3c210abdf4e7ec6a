"""Opportunities: live executable edges, bound violations beside equivalences, deviation history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import streamlit as st

from oneprice.app import charts
from oneprice.app import common as ui
from oneprice.services import arbitrage as arbitrage_svc
from oneprice.services.results import to_json

# numbers first, so they stay visible in the side-by-side tables
COLUMNS = [
    "match_id",
    "edge",
    "flags",
    "size",
    "fees",
    "annualized",
    "book_age_s",
    "max_size",
    "profit",
    "confidence",
    "pair",
    "venue_pair",
    "legs",
    "excluded_reason",
]
COLUMN_CONFIG = {
    "match_id": st.column_config.NumberColumn("match", format="%d"),
    "edge": st.column_config.NumberColumn("edge $/contract", format="%.4f"),
    "size": st.column_config.NumberColumn("size", format="%.0f", help="contracts at the target size"),
    "max_size": st.column_config.NumberColumn(
        "max size", format="%.0f", help="contracts while the edge lasts"
    ),
    "fees": st.column_config.NumberColumn("fees $", format="%.2f"),
    "profit": st.column_config.NumberColumn("profit $", format="%.2f"),
    "annualized": st.column_config.NumberColumn("annualised", format="percent"),
    "book_age_s": st.column_config.NumberColumn("book age s", format="%.0f"),
    "confidence": st.column_config.NumberColumn("match conf.", format="%.2f"),
    "excluded_reason": st.column_config.TextColumn("excluded because"),
    "flags": st.column_config.TextColumn(
        "safety flags",
        help="unreviewed: no human confirmed the match; thin_rules: a venue's rules name no measure, "
        "source or tie rule; held_for_review: an edge far above the usual deviation (not alerted)",
    ),
}
KINDS = {"equivalence": "Equivalence edges", "bound": "No-arbitrage bound violations"}

ui.require_db()
st.title("Opportunities")
refresh_s = max(2.0, float(ui.settings().dashboard_refresh_s))


def _legs(legs: Any) -> str:
    if not isinstance(legs, list):
        return ""
    return " + ".join(
        f"{lg.get('venue')}:{lg.get('outcome')}@{ui.fmt_prob(lg.get('avg_price'))}"
        for lg in legs
        if isinstance(lg, dict)
    )


def _row(o: arbitrage_svc.StoredOpportunity) -> dict[str, Any]:
    plain = to_json(o)
    row = {c: plain.get(c) for c in COLUMNS}
    row["legs"] = _legs(o.legs)
    return row


def _scan_status() -> None:
    runs = ui.fetch("Scan runs", arbitrage_svc.list_scan_runs, live=True, limit=1)
    summary = ui.fetch("Deviation summary", arbitrage_svc.deviation_summary, live=True)
    overall = summary.overall if summary else None
    c = st.columns(6)
    if runs:
        r = runs[0]
        c[0].metric(
            "Last scan",
            f"{ui.fmt_age(ui.age_s(r.finished_at or r.started_at))} ago",
            help=f"{ui.fmt_ts(r.finished_at)}, source {r.source}",
        )
        c[1].metric("Opportunities", r.opportunities)
        c[2].metric("Excluded", r.excluded)
    if overall:
        c[3].metric("Pairs tracked", overall.pairs)
        c[4].metric("Persistent deviations", ui.fmt_pct(overall.share_persistent, 1))
        c[5].metric("Mean exec. deviation", ui.fmt_prob(overall.mean_exec_deviation))


@st.fragment(run_every=timedelta(seconds=refresh_s) if st.session_state.get("op_auto", True) else None)
def live_table() -> None:
    opps = ui.fetch("Opportunities", arbitrage_svc.latest_opportunities, live=True)
    if opps is ui.UNAVAILABLE:
        return
    _scan_status()
    if not opps:
        ui.empty_state("No scan results yet", ui.CMD_SCAN)
        return
    for col, (kind, title) in zip(st.columns(2), KINDS.items(), strict=True):
        with col:
            st.subheader(title)
            mine = [o for o in opps if o.kind == kind]
            live = [_row(o) for o in mine if o.is_opportunity]
            rest = [_row(o) for o in mine if not o.is_opportunity]
            if live:
                st.dataframe(ui.frame(live, COLUMNS[:-1]), hide_index=True, column_config=COLUMN_CONFIG)
            else:
                st.caption(f"No executable {kind} opportunity in the latest scan.")
            if rest:
                with st.expander(f"Excluded or without edge ({len(rest)})"):
                    st.dataframe(
                        ui.frame(rest, ["match_id", "edge", "excluded_reason", "pair"]),
                        hide_index=True,
                        column_config=COLUMN_CONFIG,
                    )
    st.caption(
        f"Latest scan; edges per contract net of each venue's fees, walked through book depth. "
        f"Refreshes every {refresh_s:g}s."
    )


top1, top2 = st.columns([3, 2])
top1.toggle(f"Auto-refresh every {refresh_s:g}s", value=True, key="op_auto")
with top2.popover("Scan now"):
    source = st.radio(
        "Books from",
        ["replay", "live"],
        horizontal=True,
        key="op_scan_source",
        help="replay: the bundled snapshot; live: the venues' APIs",
    )
    if st.button("Run one scan", key="op_scan"):
        with st.spinner("Scanning..."):
            res = ui.act("Scan", arbitrage_svc.scan_once, source=source)
        if res:
            st.success(f"Scan run {res.run_id}: {len(res.opportunities)} opportunities.")

live_table()

st.subheader("Deviation history")
opps_all = ui.fetch("Opportunities", arbitrage_svc.latest_opportunities, live=True, quiet=True)
if opps_all is ui.UNAVAILABLE:
    st.stop()
pairs: dict[int, str] = {}
for o in opps_all or []:
    pairs.setdefault(o.match_id, o.pair)
if not pairs:
    ui.empty_state("No scanned pairs to chart", ui.CMD_SCAN)
    st.stop()
match_id = st.selectbox("Pair", list(pairs), format_func=lambda i: f"#{i} {pairs[i][:120]}", key="op_pair")
history = ui.fetch("Deviation history", arbitrage_svc.deviation_history, live=True, match_id=match_id)
if history is ui.UNAVAILABLE:
    st.stop()
if not history:
    st.info(f"No deviation history for this pair yet; every scan adds a point (`{ui.CMD_SCAN}`).")
    st.stop()
st.plotly_chart(charts.deviation(history), key="op_history")
st.caption(f"{len(history)} observation(s), one per scan.")
