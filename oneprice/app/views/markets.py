"""Markets: search and filter across venues; one market's rules, price history and order book."""

from __future__ import annotations

import streamlit as st

from oneprice.app import charts
from oneprice.app import common as ui
from oneprice.services import ingest as ingest_svc

ui.require_db()
st.title("Markets")

overview = ui.fetch("Venue overview", ingest_svc.overview)
venue_names = [v.name for v in overview.venues] if overview else []

c1, c2, c3 = st.columns([3, 2, 1])
query = c1.text_input(
    "Search", placeholder="words in the question, e.g. bitcoin, fed, election", key="mk_query"
)
venues = c2.multiselect("Venues", venue_names, key="mk_venues")
status = c3.selectbox("Status", ["any", "open", "closed", "settled"], key="mk_status")

rows = ui.fetch(
    "Market search",
    ingest_svc.search_markets,
    query=query.strip(),
    venues=venues or None,
    status=None if status == "any" else status,
    limit=200,
)
if rows is ui.UNAVAILABLE:
    st.stop()
if not rows:
    if query or venues or status != "any":
        st.info("No market matches these filters.")
    else:
        ui.empty_state("No markets yet", ui.CMD_INGEST)
    st.stop()

st.caption(f"{len(rows)} market(s){' (first 200)' if len(rows) >= 200 else ''}")
st.dataframe(
    ui.frame(rows, ["id", "venue", "external_id", "question", "status", "close_time", "category"]),
    hide_index=True,
    height=300,
)

labels = {r.id: f"{r.venue} · {r.question}" for r in rows}
market_id = st.selectbox("Market detail", list(labels), format_func=lambda i: labels[i], key="mk_detail")
detail = ui.fetch("Market detail", ingest_svc.market_detail, live=True, market_id=market_id)
if not detail:
    st.stop()

st.subheader(ui.plain(detail.question))  # venue text is shown as typed, never as Markdown
facts = [
    f"**{ui.plain(detail.venue)}**",
    f"status **{ui.plain(detail.status)}**",
    f"closes **{ui.fmt_ts(detail.close_time)}**",
    f"id {ui.plain(detail.external_id)}",
]
if detail.category:
    facts.append(f"category {ui.plain(detail.category)}")
if link := ui.safe_link(detail.url):
    facts.append(f"[open on {ui.plain(detail.venue)}]({link})")
st.markdown(" · ".join(facts))

with st.expander("Resolution rules", expanded=True):
    st.text(str(detail.rules or "(the venue published no rules text)"))

outcomes = detail.outcomes
if outcomes:
    st.dataframe(ui.frame(outcomes), hide_index=True)

st.subheader("Price history")
history = detail.price_history
if not history:
    ui.empty_state("No quotes recorded for this market", ui.CMD_INGEST)
else:
    st.plotly_chart(charts.price_history(history), key="mk_history")

st.subheader("Order book")
books = detail.book  # outcome -> latest snapshot
if not books:
    ui.empty_state("No order book snapshot for this market", ui.CMD_SCAN)
else:
    cols = st.columns(len(books))
    for col, (outcome, b) in zip(cols, sorted(books.items(), key=lambda kv: kv[0] != "Yes"), strict=True):
        col.markdown(f"**{ui.plain(outcome)}** · {ui.fmt_ts(b.ts)}")
        bids = [(ui.num(p), ui.num(s)) for p, s in b.bids]
        asks = [(ui.num(p), ui.num(s)) for p, s in b.asks]
        depth = max(len(bids), len(asks))
        table = [
            {
                "bid size": bids[i][1] if i < len(bids) else None,
                "bid": bids[i][0] if i < len(bids) else None,
                "ask": asks[i][0] if i < len(asks) else None,
                "ask size": asks[i][1] if i < len(asks) else None,
            }
            for i in range(depth)
        ]
        col.dataframe(ui.frame(table), hide_index=True)
