"""Candidate recall, classifier behaviour on unseen pairs, and `align run` over real listing markets."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine

from oneprice.alignment import candidates
from oneprice.alignment.embed import Embedder
from oneprice.alignment.evaluate import evaluate_holdout
from oneprice.alignment.labels import read_pairs
from oneprice.alignment.scoring import Prepared
from oneprice.core.types import Market
from oneprice.services import alignment
from oneprice.services.container import build_services

from .align_helpers import ALIGN_FIXTURES, insert_markets, listing_markets

# One worker trains the session model and fills the embedding cache for every model-training test.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("alignment-model")]


def _fixture_pairs() -> list[dict[str, str]]:
    with (ALIGN_FIXTURES / "pairs.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_candidate_generation_recalls_labeled_equivalents(embed_cache: Path) -> None:
    ms = listing_markets()
    markets = [
        Market(venue=m["platform"].lower(), market_id=m["id"], question=m["question"], rules=m["description"])
        for m in ms
    ]
    emb = Embedder(cache_dir=embed_cache)
    prep = Prepared(markets, emb)
    ka = [i for i, k in enumerate(prep.keys) if k[0] == "kalshi"]
    pb = [i for i, k in enumerate(prep.keys) if k[0] == "polymarket"]
    cands = candidates.generate(
        prep.vectors[ka],
        prep.vectors[pb],
        [prep.contracts[i] for i in ka],
        [prep.contracts[j] for j in pb],
        k=10,
    )
    found = {(prep.keys[ka[i]][1], prep.keys[pb[j]][1]) for i, j, _ in cands}
    want = [
        (r["id_a"], r["id_b"]) if r["venue_a"].startswith("Kalshi") else (r["id_b"], r["id_a"])
        for r in _fixture_pairs()
        if r["relation"] == "equivalent"
    ]
    recall = sum(p in found for p in want) / len(want)
    assert recall >= 0.95, recall
    # far below all-pairs
    assert len(cands) < 0.2 * len(ka) * len(pb)


def test_classifier_on_groups_it_never_saw(small_labels: Path, embed_cache: Path) -> None:
    train, _ = read_pairs(small_labels)
    test, _ = read_pairs(ALIGN_FIXTURES / "pairs.csv")
    test_keys = {p.key for p in test}
    train = [
        p
        for p in train
        if p.key not in test_keys
        and not {p.a.event_id, p.b.event_id} & {m.event_id for t in test for m in (t.a, t.b) if m.event_id}
    ]
    res = evaluate_holdout(train, test, Embedder(cache_dir=embed_cache))
    model, fuzzy = res["model"]["hedgeable"], res["baselines"]["fuzzy"]["hedgeable"]
    assert model["precision"] >= 0.85 and model["recall"] >= 0.6, model
    assert model["f1"] > fuzzy["f1"], (model, fuzzy)
    assert sum(sum(r.values()) for r in res["confusion"].values()) == len(test)


def test_align_run_proposes_labeled_equivalents_only(sqlite_engine: Engine, with_model: Path) -> None:
    ids = insert_markets(sqlite_engine)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    first = alignment.run(build_services(db_url=url))
    assert first.markets == len(ids) and first.trained is False and first.inserted == first.proposed
    hedge = {
        (m.market_a.external_id, m.market_b.external_id)
        for m in alignment.list_matches(build_services(db_url=url), relations=["equivalent", "inverse"])
    }
    rows = _fixture_pairs()
    key = lambda r: (r["id_a"], r["id_b"]) if r["venue_a"].startswith("Kalshi") else (r["id_b"], r["id_a"])  # noqa: E731
    eq = [key(r) for r in rows if r["relation"] == "equivalent"]
    non = [key(r) for r in rows if r["relation"] != "equivalent"]
    assert sum(p in hedge for p in eq) >= 0.9 * len(eq)
    assert not [p for p in non if p in hedge]
    # every stored match explains itself
    m = alignment.list_matches(build_services(db_url=url), limit=1)[0]
    assert m.explanation["facets"] and "p_same_proposition" in m.explanation
    hedged = alignment.list_matches(build_services(db_url=url), relations=["equivalent", "inverse"])
    assert hedged and not [x for x in hedged if x.explanation["conflicting_hard_facets"]]

    # re-run: idempotent; decisions survive; a rejected pair is not proposed again
    target = alignment.list_matches(build_services(db_url=url), relations=["equivalent"], limit=2)
    alignment.decide_match(build_services(db_url=url), target[0].id, "rejected", by="t")
    alignment.decide_match(build_services(db_url=url), target[1].id, "confirmed", by="t")
    second = alignment.run(build_services(db_url=url))
    assert second.inserted == 0 and second.updated == 0 and second.withdrawn == 0
    after = {m.id: m for m in alignment.list_matches(build_services(db_url=url), limit=10_000)}
    assert after[target[0].id].status == "rejected" and after[target[1].id].status == "confirmed"
    assert len(after) == first.proposed
