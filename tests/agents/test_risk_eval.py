"""Risk in code, Wilson intervals, overlap clusters, returns after fees, window parsing."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oneprice.agents import evaluate as ev
from oneprice.agents.risk import RiskRules, plan
from oneprice.agents.window import read_manifest, read_window
from oneprice.backtest.costs import CostModel
from oneprice.core.errors import ParseError

prices = st.floats(0.01, 1e6, allow_nan=False)


@given(prices, st.floats(1e-4, 0.2), st.sampled_from(["LONG", "SHORT"]))
def test_plan_brackets_entry_and_caps_risk(entry: float, atr_frac: float, side: str) -> None:
    atr = entry * atr_frac
    r = RiskRules()
    p = plan(side, entry, atr, r)
    assert p is not None
    if side == "LONG":
        assert p.stop < entry < p.target
    else:
        assert p.target < entry < p.stop
    loss_at_stop = p.size * abs(entry - p.stop) / entry
    assert 0 < p.size <= r.max_size
    assert loss_at_stop <= r.risk_per_trade + 1e-12
    if p.size < r.max_size:
        assert math.isclose(loss_at_stop, r.risk_per_trade, rel_tol=1e-9)


def test_no_plan_without_a_direction_or_an_atr() -> None:
    assert plan("ABSTAIN", 100.0, 1.0) is None
    assert plan("LONG", 100.0, 0.0) is None


@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_contains_the_rate(k: int, extra: int) -> None:
    n = k + extra
    lo, hi = ev.wilson(k, n)
    assert 0 <= lo <= hi <= 1
    if n:
        assert lo <= k / n <= hi


def test_wilson_known_value() -> None:
    lo, hi = ev.wilson(50, 100)
    assert round(lo, 4) == 0.4038 and round(hi, 4) == 0.5962
    assert ev.wilson(0, 0) == (0.0, 1.0)


def test_score_ignores_abstain() -> None:
    s = ev.score(["LONG", "SHORT", "ABSTAIN", "LONG"], [True, True, False, False])
    assert (s.n, s.correct, s.abstained) == (3, 1, 1)


def test_overlap_clusters_chain_through_overlaps() -> None:
    t = datetime(2024, 1, 1)
    h = timedelta(hours=1)
    spans = [(t, t + 10 * h), (t + 5 * h, t + 20 * h), (t + 30 * h, t + 40 * h), (t + 19 * h, t + 25 * h)]
    ids = ev.overlap_clusters(spans)
    assert ids[0] == ids[1] == ids[3] != ids[2]


def test_fitted_baselines_hold_out_whole_clusters() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    y = x[:, 0] > 0
    groups = np.repeat(np.arange(12), 10)
    out = ev.fitted_baselines(x, y, groups)
    assert (out["logistic"] == y).mean() > 0.9  # a real signal is learned out of fold
    with pytest.raises(ValueError):
        ev.fitted_baselines(x, y, np.zeros(120, dtype=int))


@given(prices, st.floats(0.5, 2.0), st.sampled_from(["LONG", "SHORT"]))
def test_trade_return_after_fees(entry: float, move: float, side: str) -> None:
    exit_ = entry * move
    gross = ev.trade_return(side, entry, exit_, CostModel())
    net = ev.trade_return(side, entry, exit_, CostModel(fee=0.001))
    assert gross is not None and net is not None
    sign = 1 if side == "LONG" else -1
    assert math.isclose(gross, sign * (exit_ / entry - 1), rel_tol=1e-9, abs_tol=1e-12)
    assert net < gross
    assert ev.trade_return("ABSTAIN", entry, exit_, CostModel()) is None


def test_malformed_rows_are_skipped_and_counted(tmp_path: Path, windows_dir: Path) -> None:
    src = (windows_dir / "BTC_4h_1.csv").read_text().splitlines()
    bad = [*src[:5], "2023-08-24 00:00:00,abc,1,1,1,1", "2023-08-24 04:00:00,10,5,9,9,1", *src[5:]]
    p = tmp_path / "w.csv"
    p.write_text("\n".join(bad) + "\n")
    w = read_window(p)
    assert len(w) == 100 and w.rejects == {"unparsable": 1, "inconsistent_ohlc": 1}


def test_bad_files_raise_one_line_errors(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("Datetime,Close\n2024-01-01,1\n")
    with pytest.raises(ParseError, match="missing column"):
        read_window(p)
    p.write_text("Datetime,Close,High,Low,Open,Volume\n2024-01-01 00:00:00,1,1,1,1,1\n")
    with pytest.raises(ParseError) as e:
        read_window(p)
    assert e.value.reason == "too_few_bars" and "\n" not in str(e.value)
    m = tmp_path / "m.csv"
    m.write_text("file,sym\n")
    with pytest.raises(ParseError, match="manifest"):
        read_manifest(m)


def test_manifest_names_windows(manifest: Path) -> None:
    names = read_manifest(manifest)
    assert names["SPX_4h_1"] == ("SPX", "4h")
