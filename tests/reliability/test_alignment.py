"""``align run`` gives the same candidates for the same input and never deletes history."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from sqlalchemy import Engine, func, select

from oneprice.alignment import candidates, store
from oneprice.alignment.contract import Contract
from oneprice.db import session_scope
from oneprice.db.base import now_utc
from oneprice.db.models import Match
from oneprice.db.models_arbitrage import ArbAlert, ArbDeviation, ArbOpportunity, ArbScanRun
from tests.alignment.align_helpers import insert_markets
from tests.alignment.test_store import MARKETS, _props


def test_candidates_are_the_same_run_after_run() -> None:
    # unclustered vectors: many near-ties, where a racy parallel build picks other neighbours
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5000, 24)), rng.normal(size=(3000, 24))
    a = (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)
    b = (b / np.linalg.norm(b, axis=1, keepdims=True)).astype(np.float32)
    off = candidates.Blocking(years=False, months=False, category=False, max_gap_days=0)
    ca: list[Contract] = [None] * len(a)  # type: ignore[list-item]  # blocking off: never read
    cb: list[Contract] = [None] * len(b)  # type: ignore[list-item]
    runs = [candidates.generate(a, b, ca, cb, k=10, min_cos=0.3, rules=off) for _ in range(3)]
    assert len(runs[0]) > 1000
    assert all(r == runs[0] for r in runs[1:])


def test_a_withdrawn_match_keeps_its_opportunities_deviations_and_alerts(engine: Engine) -> None:
    ids = insert_markets(engine, MARKETS)
    scope = set(ids.values())
    with session_scope(engine) as s:
        store.save(s, _props(ids), "m", "v1", scope)
    with session_scope(engine) as s:
        match = s.scalars(select(Match).order_by(Match.id)).first()
        assert match is not None
        run = ArbScanRun(source="replay", finished_at=now_utc(), status="ok")
        s.add(run)
        s.flush()
        opp = ArbOpportunity(
            scan_run_id=run.id, match_id=match.id, kind="equivalence", relation="equivalent", venue_pair="k-p"
        )
        s.add(opp)
        s.add(ArbDeviation(match_id=match.id, scan_run_id=run.id, ts=now_utc(), mid_gap=Decimal("0.1")))
        s.flush()
        s.add(
            ArbAlert(key="k", match_id=match.id, opportunity_id=opp.id, edge=Decimal("0.02"), size=Decimal(5))
        )
    with session_scope(engine) as s:
        counts = store.save(s, [], "m", "v2", scope)  # the model no longer proposes anything
    assert counts.withdrawn == 2
    with session_scope(engine) as s:
        assert {m.status for m in s.scalars(select(Match))} == {"withdrawn"}
        for table in (ArbOpportunity, ArbDeviation, ArbAlert):
            assert s.scalar(select(func.count()).select_from(table)) == 1, table.__tablename__
