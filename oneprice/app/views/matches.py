"""Matches: proposed cross-venue pairs, their deciding facets, both rules side by side, confirm/reject."""

from __future__ import annotations

from typing import Any

import streamlit as st

from oneprice.app import common as ui
from oneprice.services import alignment as alignment_svc

RELATIONS = [
    "equivalent",
    "inverse",
    "a_implies_b",
    "b_implies_a",
    "mutually_exclusive",
    "overlapping",
    "unrelated",
]

ui.require_db()
st.title("Matches")

flash = st.session_state.pop("mt_flash", None)
if flash:
    st.success(flash)

c1, c2, c3 = st.columns([1, 2, 3])
status = c1.selectbox("Status", ["proposed", "confirmed", "rejected", "any"], key="mt_status")
min_conf = c2.slider("Minimum confidence", 0.0, 1.0, 0.0, 0.05, key="mt_min_conf")
relations = c3.multiselect("Relations", RELATIONS, key="mt_relations")

matches = ui.fetch(
    "Matches",
    alignment_svc.list_matches,
    status=None if status == "any" else status,
    min_confidence=min_conf,
    relations=relations or None,
    limit=500,
)
if matches is ui.UNAVAILABLE:
    st.stop()
if not matches:
    if status == "proposed" and not relations and min_conf == 0:
        ui.empty_state("No proposed matches", ui.CMD_ALIGN)
    else:
        st.info("No match passes these filters.")
    st.stop()


def _facet(v: Any) -> str:
    """A facet's value as text (facets mix flags, scores and words)."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_facet(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(_facet(x) for x in v)
    return "–" if v is None else str(v)


table = [
    {
        "id": m.id,
        "relation": m.relation,
        "confidence": ui.num(m.confidence),
        "status": m.status,
        "venue A": m.market_a.venue,
        "market A": m.market_a.question,
        "venue B": m.market_b.venue,
        "market B": m.market_b.question,
    }
    for m in matches
]
st.caption(f"{len(matches)} match(es){' (the 500 most confident)' if len(matches) >= 500 else ''}")
st.dataframe(
    ui.frame(table),
    hide_index=True,
    height=260,
    column_config={
        "confidence": st.column_config.ProgressColumn(
            "confidence", min_value=0.0, max_value=1.0, format="%.2f"
        )
    },
)

by_id = {m.id: m for m in matches}


def _label(i: int) -> str:
    m = by_id[i]
    conf = ui.num(m.confidence) or 0.0
    return f"#{i} {m.relation} ({conf:.2f}): {m.market_a.question[:80]}"


match_id = st.selectbox("Review match", list(by_id), format_func=_label, key="mt_selected")
m = by_id[match_id]

k1, k2, k3, k4 = st.columns(4)
k1.metric("Relation", m.relation)
k2.metric("Confidence", f"{ui.num(m.confidence) or 0:.2f}")
k3.metric("Status", m.status)
k4.metric("Method", m.method or "–")
if m.outcome_map:
    st.caption(
        "Hedge map (outcome of B paying when A resolves): "
        + ", ".join(f"A {k} → B {v}" for k, v in m.outcome_map.items())
    )

st.subheader("Deciding facets")
explanation = m.explanation or {}
if isinstance(explanation, dict) and explanation:
    facets = [{"facet": k, "value": _facet(v)} for k, v in explanation.items()]
    st.dataframe(ui.frame(facets), hide_index=True)
elif explanation:
    st.write(explanation)
else:
    st.caption("The model recorded no facets for this match.")

left, right = st.columns(2)
for col, side, mk in ((left, "a", m.market_a), (right, "b", m.market_b)):
    with col:
        st.markdown(f"**Market {side.upper()} · {ui.plain(mk.venue)}** {ui.plain(mk.external_id)}")
        st.markdown(ui.plain(mk.question))  # venue text is shown as typed, never as Markdown
        st.caption(f"Closes {ui.fmt_ts(mk.close_time)}")
        st.caption("Resolution rules")
        with st.container(height=280, border=True, key=f"mt_rules_{side}"):
            st.text(str(mk.rules or "(no rules text)"))


def _decide(decision: str) -> None:
    result = ui.act(
        "Saving the decision",
        alignment_svc.decide_match,
        match_id=match_id,
        decision=decision,
        by="dashboard",
    )
    if result is not ui.UNAVAILABLE:
        st.session_state["mt_flash"] = f"Match #{match_id} {decision}."


b1, b2, b3 = st.columns([1, 1, 4])
b3.caption(
    "Decisions are kept by every later `oneprice align run` and train the next `oneprice align train`."
)
if b1.button("Confirm", type="primary", key="mt_confirm", icon=":material/check:"):
    _decide("confirmed")
    if "mt_flash" in st.session_state:
        st.rerun()
if b2.button("Reject", key="mt_reject", icon=":material/close:"):
    _decide("rejected")
    if "mt_flash" in st.session_state:
        st.rerun()
