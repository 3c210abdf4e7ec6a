"""Overview: venues and market counts, the latest ingest and scan runs with their counts and errors."""

from __future__ import annotations

from typing import Any

import streamlit as st

from oneprice.app import common as ui

url = ui.require_db()
st.title("Overview")
st.caption(f"Database: `{ui.safe_url(url)}`")

overview = ui.fetch("Venue overview", "ingest", "overview", url=url)
if overview is not ui.UNAVAILABLE:
    venues: list[dict[str, Any]] = list(ui.pick(overview, "venues", default=[]) or [])
    total = sum(int(ui.pick(v, "markets", "market_count", "count", default=0) or 0) for v in venues)
    if total == 0:
        ui.empty_state("No markets yet", "oneprice ingest replay")
    else:
        cols = st.columns(min(len(venues), 4) + 1)
        cols[0].metric("Markets", f"{total:,}")
        for col, v in zip(cols[1:], venues, strict=False):
            col.metric(
                str(ui.pick(v, "name", "venue", default="?")),
                f"{int(ui.pick(v, 'markets', 'market_count', 'count', default=0)):,}",
            )
        st.subheader("Venues")
        st.dataframe(ui.frame(venues), hide_index=True)

st.subheader("Latest ingest runs")
runs = ui.fetch("Ingest runs", "ingest", "list_ingest_runs", live=True, limit=20, url=url)
if runs is not ui.UNAVAILABLE:
    if not runs:
        ui.empty_state("No ingest runs yet", "oneprice ingest replay")
    else:
        st.dataframe(
            ui.frame(
                runs,
                [
                    "id",
                    "source",
                    "status",
                    "started_at",
                    "finished_at",
                    "fetched",
                    "inserted",
                    "updated",
                    "rejected",
                    "rejects",
                    "errors",
                ],
            ),
            hide_index=True,
        )
        failing = [r for r in runs if r.get("errors")]
        for r in failing[:5]:
            with st.expander(
                f"Run {r.get('id')} ({r.get('source')}, {r.get('status')}): {len(r['errors'])} error(s)"
            ):
                for msg in r["errors"]:
                    st.text(str(msg))

st.subheader("Latest arbitrage scans")
scans = ui.fetch("Scan runs", "arbitrage", "list_scan_runs", live=True, limit=20, url=url)
if scans is not ui.UNAVAILABLE:
    if not scans:
        ui.empty_state("No scans yet", "oneprice arbitrage scan --source replay")
    else:
        st.dataframe(ui.frame(scans), hide_index=True)

st.subheader("Matches")
matches = ui.fetch("Matches", "alignment", "list_matches", limit=5000, url=url)
if matches is not ui.UNAVAILABLE:
    if not matches:
        ui.empty_state("No matches yet", "oneprice align run")
    else:
        by_status: dict[str, int] = {}
        for m in matches:
            by_status[str(m.get("status"))] = by_status.get(str(m.get("status")), 0) + 1
        cols = st.columns(3)
        for col, status in zip(cols, ("proposed", "confirmed", "rejected"), strict=True):
            col.metric(status.capitalize(), by_status.get(status, 0))
