"""Review workflow invariants on both database backends."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from oneprice.alignment import store
from oneprice.core.errors import NotFoundError
from oneprice.db import session_scope
from oneprice.db.models import Match

from .align_helpers import insert_markets

MARKETS = [
    {
        "platform": "Kalshi",
        "id": "KXNBA-25-TOR",
        "question": "Will the Toronto Raptors win the NBA Finals?",
        "description": "If the Toronto Raptors win the 2025 NBA Finals, then the market resolves to Yes.",
        "end_date": "2027-06-30T14:00:00.000000Z",
    },
    {
        "platform": "Polymarket",
        "id": "0xaaa",
        "question": "Will the Toronto Raptors win the 2025 NBA Finals?",
        "description": "Resolves Yes if the Raptors win the 2025 NBA Finals.",
        "end_date": "2025-06-23T00:00:00.000000Z",
    },
    {
        "platform": "Kalshi",
        "id": "KXNBA-25-MIA",
        "question": "Will the Miami Heat win the NBA Finals?",
        "description": "",
        "end_date": "2027-06-30T14:00:00.000000Z",
    },
    {
        "platform": "Polymarket",
        "id": "0xbbb",
        "question": "Will the Miami Heat win the 2025 NBA Finals?",
        "description": "",
        "end_date": "2025-06-23T00:00:00.000000Z",
    },
]


def _props(ids: dict[str, int], conf: float = 0.9) -> list[store.Proposal]:
    return [
        store.Proposal(ids["KXNBA-25-TOR"], ids["0xaaa"], "equivalent", conf, {"differing_facets": []}),
        store.Proposal(
            ids["KXNBA-25-MIA"], ids["0xbbb"], "inverse", conf, {"differing_facets": ["polarity"]}
        ),
    ]


def _rows(engine: Engine) -> list[Match]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Match).order_by(Match.id)))


def test_rerun_is_idempotent_and_outcome_maps_follow_relation(engine: Engine) -> None:
    ids = insert_markets(engine, MARKETS)
    scope = set(ids.values())
    with session_scope(engine) as s:
        c1 = store.save(s, _props(ids), "m", "v1", scope)
    with session_scope(engine) as s:
        c2 = store.save(s, _props(ids), "m", "v1", scope)
    assert (c1.inserted, c2.inserted, c2.unchanged, c2.updated) == (2, 0, 2, 0)
    rows = _rows(engine)
    assert [r.outcome_map for r in rows] == [{"Yes": "Yes", "No": "No"}, {"Yes": "No", "No": "Yes"}]
    assert all(r.status == "proposed" and r.method == "m" for r in rows)


def test_human_decisions_survive_reruns_and_rejected_pairs_never_return(engine: Engine) -> None:
    ids = insert_markets(engine, MARKETS)
    scope = set(ids.values())
    with session_scope(engine) as s:
        store.save(s, _props(ids), "m", "v1", scope)
    first, second = _rows(engine)
    with session_scope(engine) as s:
        store.decide(s, first.id, "confirmed", by="alice")
        store.decide(s, second.id, "rejected", by="bob")
    # a new model version proposes other relations, in the other orientation for the rejected pair
    new = [
        store.Proposal(ids["KXNBA-25-TOR"], ids["0xaaa"], "a_implies_b", 0.99, {}),
        store.Proposal(ids["0xbbb"], ids["KXNBA-25-MIA"], "equivalent", 0.99, {}),
    ]
    with session_scope(engine) as s:
        counts = store.save(s, new, "m", "v2", scope)
    assert counts.kept_decided == 2 and counts.inserted == 0
    a, b = _rows(engine)
    assert (a.status, a.relation, a.decided_by) == ("confirmed", "equivalent", "alice")
    assert (b.status, b.relation, b.decided_by) == ("rejected", "inverse", "bob")
    with session_scope(engine) as s:
        labels = store.review_labels(s)
        decided = store.decided_pairs(s)
    assert sorted(p.relation for p in labels) == ["equivalent", "overlapping"]
    assert (ids["0xbbb"], ids["KXNBA-25-MIA"]) in decided


def test_stale_proposals_are_withdrawn_but_decided_ones_stay(engine: Engine) -> None:
    ids = insert_markets(engine, MARKETS)
    scope = set(ids.values())
    with session_scope(engine) as s:
        store.save(s, _props(ids), "m", "v1", scope)
    first = _rows(engine)[0]
    with session_scope(engine) as s:
        store.decide(s, first.id, "rejected")
    with session_scope(engine) as s:
        counts = store.save(s, [], "m", "v2", scope)
    assert counts.withdrawn == 1
    rows = _rows(engine)
    assert [(r.id, r.status) for r in rows[:1]] == [(first.id, "rejected")]
    assert [r.status for r in rows[1:]] == ["withdrawn"]  # kept, never deleted
    with session_scope(engine) as s:  # made again: proposed again, same row
        again = store.save(s, _props(ids), "m", "v3", scope)
    assert again.updated == 1 and again.inserted == 0
    assert [(r.id, r.status) for r in _rows(engine)] == [(first.id, "rejected"), (rows[1].id, "proposed")]


def test_list_and_decide_errors(engine: Engine) -> None:
    ids = insert_markets(engine, MARKETS)
    with session_scope(engine) as s:
        store.save(s, _props(ids, 0.7), "m", "v1", set(ids.values()))
    with session_scope(engine) as s:
        got = store.list_matches(s, relations=["inverse"])
        assert len(got) == 1 and got[0]["market_a"]["external_id"] == "KXNBA-25-MIA"
        assert got[0]["market_b"]["venue"] == "polymarket" and got[0]["outcome_map"] == {
            "Yes": "No",
            "No": "Yes",
        }
        assert store.list_matches(s, min_confidence=0.8) == []
        with pytest.raises(NotFoundError):
            store.decide(s, 10_000, "confirmed")
        with pytest.raises(ValueError, match="decision"):
            store.decide(s, got[0]["id"], "maybe")
