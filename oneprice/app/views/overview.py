"""Overview: venues and market counts, the latest ingest and scan runs with their counts and errors."""

from __future__ import annotations

import streamlit as st

from oneprice.app import common as ui
from oneprice.services import arbitrage as arbitrage_svc
from oneprice.services import dashboard as dashboard_svc
from oneprice.services import ingest as ingest_svc

url = ui.require_db()
st.title("Overview")
st.caption(f"Database: `{ui.safe_url(url)}`")

overview = ui.fetch("Venue overview", ingest_svc.overview)
if overview is not ui.UNAVAILABLE:
    venues = overview.venues
    total = overview.markets
    if total == 0:
        ui.empty_state("No markets yet", ui.CMD_INGEST)
    else:
        shown = [v for v in venues if v.markets][:4]
        cols = st.columns(2 + len(shown))
        cols[0].metric("Markets", f"{total:,}")
        cols[1].metric("Quotes", f"{overview.quotes:,}")
        for col, v in zip(cols[2:], shown, strict=True):
            col.metric(v.name, f"{v.markets:,}", help=f"{v.open_markets} open")
    left, right = st.columns(2)
    with left:
        st.subheader("Venues")
        if venues:
            st.dataframe(
                ui.frame(venues, ["name", "kind", "executable", "markets", "open_markets"]), hide_index=True
            )
        else:
            ui.empty_state("No venues yet", ui.CMD_INGEST)
    with right:
        st.subheader("Price series")
        series = overview.bar_series
        if series:
            st.dataframe(
                ui.frame(series, ["exchange", "symbol", "timeframe", "bars", "first", "last"]),
                hide_index=True,
            )
        else:
            ui.empty_state("No OHLCV bars yet", ui.CMD_BARS)

st.subheader("Latest ingest runs")
runs = ui.fetch("Ingest runs", ingest_svc.list_ingest_runs, live=True, limit=20)
if runs is not ui.UNAVAILABLE:
    if not runs:
        ui.empty_state("No ingest runs yet", ui.CMD_INGEST)
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
        failing = [r for r in runs if r.errors]
        for r in failing[:5]:
            with st.expander(f"Run {r.id} ({r.source}, {r.status}): {len(r.errors)} error(s)"):
                for msg in r.errors:
                    st.text(str(msg))

st.subheader("Latest arbitrage scans")
scans = ui.fetch("Scan runs", arbitrage_svc.list_scan_runs, live=True, limit=20)
if scans is not ui.UNAVAILABLE:
    if not scans:
        ui.empty_state("No scans yet", ui.CMD_SCAN)
    else:
        st.dataframe(ui.frame(scans), hide_index=True)

st.subheader("Matches")
counts = ui.fetch("Match counts", dashboard_svc.match_counts)
if counts is not ui.UNAVAILABLE:
    by_status: dict[str, int] = counts.status
    if not by_status:
        ui.empty_state("No matches yet", ui.CMD_ALIGN)
    else:
        mcols = st.columns(4)
        for col, status in zip(mcols, ("proposed", "confirmed", "rejected"), strict=False):
            col.metric(status.capitalize(), f"{by_status.get(status, 0):,}")
        relations = counts.relation
        mcols[3].dataframe(
            ui.frame([{"relation": k, "matches": v} for k, v in sorted(relations.items())]), hide_index=True
        )
