"""Backtest inputs: epoch units, repeated timestamps, impossible prices, grids too large, NaN in JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from oneprice.backtest.data import Bars, read_bars_file
from oneprice.backtest.sweep import check_grid, span
from oneprice.core.errors import InputError
from oneprice.db import init_db
from tests.reliability.helpers import assert_one_line_error, run_cli, snapshot

FIX = Path(__file__).parents[1] / "fixtures" / "backtest" / "BTCUSDT_1h.csv.gz"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    df = pd.read_csv(FIX, nrows=600)
    df["Date"] = pd.to_datetime(df["Date"], utc=True)
    return df


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'bt.db'}"
    return url, init_db(url)


def _secs(df: pd.DataFrame) -> pd.Series:
    return (df["Date"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)


def _run(csv: Path, url: str, *extra: str) -> object:
    args = ["--db", url, "backtest", "run", "--strategy", "sma", "--csv", str(csv)]
    return run_cli([*args, "--param", "fast=5", "--param", "slow=20", *extra])


@pytest.mark.parametrize(("unit", "scale"), [("s", 1), ("ms", 1_000), ("us", 1_000_000)])
def test_epoch_times_are_read_in_their_own_unit(
    frame: pd.DataFrame, tmp_path: Path, unit: str, scale: int
) -> None:
    iso = tmp_path / "iso.csv"
    frame.to_csv(iso, index=False)
    epoch = tmp_path / f"{unit}.csv"
    secs = _secs(frame)
    frame.assign(Date=secs * scale).to_csv(epoch, index=False)
    a, b = read_bars_file(iso), read_bars_file(epoch)
    assert a.index.equals(b.index) and a.index[0] == pd.Timestamp("2020-01-01", tz="UTC")
    np.testing.assert_array_equal(a.close, b.close)


def test_cli_metrics_agree_for_seconds_and_dates(
    frame: pd.DataFrame, tmp_path: Path, db: tuple[str, Engine]
) -> None:
    url, _ = db
    iso, secs = tmp_path / "iso.csv", tmp_path / "secs.csv"
    frame.to_csv(iso, index=False)
    frame.assign(Date=_secs(frame)).to_csv(secs, index=False)
    got = [json.loads(_run(p, url, "--json").stdout)["metrics"] for p in (iso, secs)]  # type: ignore[attr-defined]
    assert got[0]["sharpe"] == got[1]["sharpe"] and got[0]["total_return"] == got[1]["total_return"]


def test_an_exact_repeat_is_dropped_and_a_conflicting_one_refused(frame: pd.DataFrame) -> None:
    df = frame.head(50)
    twice = pd.concat([df, df.iloc[[10]]])
    assert len(Bars.from_frame(twice)) == 50
    clash = pd.concat([df, df.iloc[[10]].assign(Close=1.0)])
    with pytest.raises(InputError, match="appears twice with different values"):
        Bars.from_frame(clash)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 0.0, -5.0, 1e308, "abc"])
def test_an_impossible_price_is_one_line_and_stores_no_run(
    bad: object, frame: pd.DataFrame, tmp_path: Path, db: tuple[str, Engine]
) -> None:
    url, engine = db
    df = frame.head(100).astype({"Close": object})
    df.loc[40, "Close"] = bad
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    before = snapshot(engine)
    assert_one_line_error(_run(path, url), "close=", "need a finite price")
    assert snapshot(engine) == before


def test_duplicate_timestamps_in_a_file_are_one_line(
    frame: pd.DataFrame, tmp_path: Path, db: tuple[str, Engine]
) -> None:
    url, engine = db
    df = pd.concat([frame.head(100), frame.iloc[[30]].assign(Close=5.0)])
    path = tmp_path / "dup.csv"
    df.to_csv(path, index=False)
    before = snapshot(engine)
    assert_one_line_error(_run(path, url), "appears twice")
    assert snapshot(engine) == before


def test_json_output_is_valid_json_even_when_a_metric_is_undefined(
    tmp_path: Path, db: tuple[str, Engine]
) -> None:
    url, _ = db
    flat = pd.DataFrame(
        {
            "ts": pd.date_range("2024-01-01", periods=60, freq="h", tz="UTC"),
            "open": 100.0,
            "high": 100.0,
            "low": 100.0,
            "close": 100.0,
            "volume": 1.0,
        }
    )
    path = tmp_path / "flat.csv"
    flat.to_csv(path, index=False)
    res = _run(path, url, "--json")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]

    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} in JSON")

    body = json.loads(res.stdout, parse_constant=refuse)  # type: ignore[attr-defined]
    assert body["metrics"]["sharpe"] is None


def test_a_huge_grid_is_refused_before_it_is_built(db: tuple[str, Engine]) -> None:
    url, engine = db
    before = snapshot(engine)
    res = run_cli(["--db", url, "backtest", "sweep", "--strategy", "sma", "--grid", "fast=1:100000000:1"])
    assert_one_line_error(res, "100,000,000 values", "at most 10,000")
    assert snapshot(engine) == before
    with pytest.raises(InputError, match="combinations"):
        check_grid({"fast": list(range(200)), "slow": list(range(200))})
    with pytest.raises(InputError, match="values"):
        span("fast", 1, 1e12)
    with pytest.raises(InputError, match="finite"):
        span("fast", 1, float("nan"))
