"""Sweeps on local processes and on a Dask cluster agree with sequential runs; walk-forward."""

from __future__ import annotations

import pandas as pd
import pytest

from oneprice.backtest import Bars, CostModel, backtest
from oneprice.backtest.sweep import grid, sweep, walk_forward

SPACE = {"fast": [5, 10, 20], "slow": [10, 30, 60]}


def _key(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["fast", "slow"]).reset_index(drop=True)


def test_grid_and_skips(btc: Bars):
    assert len(grid(SPACE)) == 9
    seq = sweep(btc, "sma", SPACE, CostModel(fee=0.001), workers=1)
    assert len(seq) == 7 and seq.attrs["skipped"] == 2  # fast >= slow
    one = backtest(btc, "sma", {"fast": 10, "slow": 30}, CostModel(fee=0.001))
    row = seq[(seq.fast == 10) & (seq.slow == 30)].iloc[0]
    assert row["final_equity"] == one.final_equity
    assert row["trade_count"] == len(one.trades)
    assert row["sharpe"] == pytest.approx(one.metrics()["sharpe"])


def test_process_pool_matches_sequential(btc: Bars):
    seq = sweep(btc, "sma", SPACE, CostModel(fee=0.001), workers=1)
    par = sweep(btc, "sma", SPACE, CostModel(fee=0.001), workers=2)
    pd.testing.assert_frame_equal(_key(seq), _key(par))


def test_dask_local_cluster_matches_sequential(btc: Bars, monkeypatch: pytest.MonkeyPatch):
    distributed = pytest.importorskip("distributed")
    from distributed.comm import inproc

    # inproc addresses embed the host IP, found by "connecting" a UDP socket to 8.8.8.8, which the
    # loopback-only socket guard blocks; pin it to loopback instead.
    monkeypatch.setattr(inproc.global_manager, "_ip", "127.0.0.1")
    seq = sweep(btc, "sma", SPACE, CostModel(fee=0.001), workers=1)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as lc,
        distributed.Client(lc) as client,
    ):
        par = sweep(btc, "sma", SPACE, CostModel(fee=0.001), scheduler=client)
        by_addr = sweep(btc, "sma", SPACE, CostModel(fee=0.001), scheduler=lc.scheduler_address)
    pd.testing.assert_frame_equal(_key(seq), _key(par))
    pd.testing.assert_frame_equal(_key(seq), _key(by_addr))


def test_walk_forward_trades_out_of_sample(btc: Bars):
    out = walk_forward(btc, "sma", {"fast": [5, 10], "slow": [30, 60]}, train=800, test=400, workers=1)
    assert len(out["folds"]) == 3
    eq = out["equity"]
    assert eq.index[0] == btc.index[800] and len(eq) == 1200 and eq.index.is_monotonic_increasing
    assert out["final_equity"] == pytest.approx(eq.iloc[-1])
    for f in out["folds"]:
        assert f["test_start"] > f["train_start"] and f["params"]["fast"] < f["params"]["slow"]
