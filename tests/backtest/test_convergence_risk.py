"""The convergence backtest prices the chance that a matched pair settles differently."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine

from oneprice.backtest.convergence import load_pair, run_convergence
from oneprice.db import Match, session_scope

from .test_convergence import make_pair


def _propose(engine: Engine, confidence: float) -> None:
    with session_scope(engine) as s:
        m = s.query(Match).one()
        m.status, m.confidence = "proposed", confidence


def test_an_unsure_match_is_not_traded_on_an_edge_its_mismatch_risk_eats(engine: Engine) -> None:
    mid = make_pair(engine, result="yes")
    params = {"threshold": 0.05, "contracts": 200, "hold": 1}
    confirmed = load_pair(engine, mid)
    assert confirmed.p_same == 0.99  # a confirmed match is credited ONEPRICE_ARB_CONFIRMED_CONFIDENCE
    assert len(run_convergence(confirmed, params, Decimal(1000)).trades) == 2  # edge 0.0835 - 0.01
    _propose(engine, 0.9)
    unsure = load_pair(engine, mid)
    r = run_convergence(unsure, params, Decimal(1000))
    assert unsure.p_same == 0.9 and r.trades.empty  # 0.0835 - 0.10 expected mismatch loss < 0.05
    assert abs(r.meta["settlement_risk_per_contract"] - 0.1) < 1e-9
    # a user who rules the risk out (mismatch_loss 0) trades it as before
    assert len(run_convergence(unsure, {**params, "mismatch_loss": 0.0}, Decimal(1000)).trades) == 2
