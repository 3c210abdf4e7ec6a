"""PreBit-style dataset, labels, walk-forward and trading rule on the committed slices."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneprice.backtest import Bars
from oneprice.models.prebit import build_dataset, read_daily, walk_forward
from oneprice.models.prebit.dataset import labels
from oneprice.models.prebit.model import auc_table
from oneprice.models.prebit.trading import DAY, rule_params, signal_series
from oneprice.models.sentiment import score_texts
from oneprice.services.signals import backtest_rules


def _bars(closes, highs=None, lows=None, start="2020-01-01") -> pd.DataFrame:
    idx = pd.date_range(start, periods=len(closes), freq="D", tz="UTC")
    c = np.asarray(closes, float)
    return pd.DataFrame(
        {
            "open": c,
            "high": highs if highs is not None else c,
            "low": lows if lows is not None else c,
            "close": c,
            "volume": 1.0,
        },
        index=idx,
    )


def test_read_daily_skips_and_counts_bad_rows(tmp_path: Path):
    (tmp_path / "b.csv").write_text(
        "Date,Close,High,Low,Open,Vol\n2020-01-01,10,11,9,10,5\nnot-a-date,1,1,1,1,1\n"
        "2020-01-02,,11,9,10,5\n2020-01-03,10,11,9,10,5\n2020-01-03,12,13,11,12,5\n"
    )
    df, rejects = read_daily(tmp_path / "b.csv")
    assert list(df.index.strftime("%Y-%m-%d")) == ["2020-01-01", "2020-01-03"]
    assert df.loc["2020-01-03", "close"].item() == 12  # the later duplicate wins
    assert rejects == {"bad_date": 1, "bad_price": 1, "duplicate_day": 1}


def test_labels_follow_prebit():
    closes = [100.0] * 40
    highs = [100.0] * 40
    lows = [100.0] * 40
    highs[35], lows[36] = 105.0, 95.01  # day 34: next high +5% exactly; day 35: next low -4.99%
    y = labels(_bars(closes, highs, lows), threshold=0.05)
    assert y["y_up"].iloc[34] == 1 and y["y_up"].iloc[33] == 0
    assert y["y_down"].iloc[35] == 0
    assert np.isnan(y["y_up"].iloc[-1]) and np.isnan(y["y_down"].iloc[-1])
    lows[36] = 95.0
    assert labels(_bars(closes, highs, lows))["y_down"].iloc[35] == 1


def test_a_gap_in_the_bars_has_no_label():
    b = _bars([100.0] * 5).drop(pd.Timestamp("2020-01-03", tz="UTC"))
    y = labels(b)
    assert np.isnan(y.loc["2020-01-02", "y_up"].item()) and y.loc["2020-01-01", "y_up"].item() == 0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.5, 2.0), min_size=40, max_size=60), st.floats(0.01, 0.2))
def test_label_rates_fall_as_the_threshold_rises(moves, thr):
    c = 100 * np.cumprod(moves)
    b = _bars(c, c * 1.03, c * 0.97)
    lo, hi = labels(b, thr), labels(b, thr * 2)
    assert (hi["y_up"].fillna(0) <= lo["y_up"].fillna(0)).all()
    assert (hi["y_down"].fillna(0) <= lo["y_down"].fillna(0)).all()


def test_features_of_a_day_ignore_everything_after_it(slices, bundled):
    cut = pd.Timestamp("2018-01-15", tz="UTC")
    score = lambda texts: score_texts(bundled, texts)  # noqa: E731
    assets = {"gold": slices["gold"], "spy": slices["spy"]}
    full = build_dataset(slices["btc"], assets, slices["tweets"], score, end="2018-01-15")
    tw = slices["tweets"]
    later = tw["ts"] >= cut + DAY
    # change every later bar and tweet, and drop the later asset sessions: nothing up to the cut may move
    btc = slices["btc"].copy()
    btc.loc[btc.index > cut, ["open", "high", "low", "close"]] *= 3.0
    tw2 = tw.copy()
    tw2.loc[later, "text"] = "crash crash sell everything"
    assets2 = {k: v[v.index <= cut] for k, v in assets.items()}
    other = build_dataset(btc, assets2, tw2, score, start=full.index[0], end="2018-01-15")
    feat = [c for c in full.columns if not c.startswith("y_")]
    # the transformer's scores move by ~1e-8 with the batch a text shares (padding, kernel blocking);
    # a look-ahead leak moves them by orders of magnitude more
    pd.testing.assert_frame_equal(full[feat], other[feat], check_exact=False, rtol=0, atol=1e-6)
    # a day's label looks exactly one day ahead: the cut's label changes, the day before's does not
    assert full.loc[: cut - DAY, "y_up"].equals(other.loc[: cut - DAY, "y_up"])


def test_weekends_carry_the_last_session(dataset):
    fri, sat, sun = (pd.Timestamp(d, tz="UTC") for d in ("2018-01-12", "2018-01-13", "2018-01-14"))
    cols = [c for c in dataset.columns if c.startswith("asset_")]
    assert dataset.loc[sat, cols].equals(dataset.loc[fri, cols])
    assert dataset.loc[sun, cols].equals(dataset.loc[fri, cols])
    assert dataset[cols].notna().all().all()


def test_dataset_has_tweets_sentiment_and_text(dataset):
    assert dataset.index[0] == pd.Timestamp("2017-09-21", tz="UTC")
    assert dataset["tw_count"].gt(0).mean() > 0.9
    assert dataset["tw_sent_mean"].between(-1, 1).all()
    assert dataset["doc"].str.len().gt(0).mean() > 0.9
    assert dataset[[c for c in dataset.columns if c.startswith("ta_")]].notna().all().all()


def test_walk_forward_folds_and_placebo(dataset):
    pred = walk_forward(dataset, ("up", "down"), train_days=60, step=30)
    labeled = dataset["y_up"].notna().sum()
    assert pred["fold"].nunique() == math.ceil((labeled - 60) / 30)
    assert set(pred["model"]) == {"ta_only", "text_only", "fusion", "placebo"}
    one = pred[(pred.task == "up") & (pred.model == "fusion")]
    assert len(one) == labeled - 60 and one.index.is_unique
    assert one.index[0] == dataset.index[60]
    assert pred["p"].between(0, 1).all()
    aucs = auc_table(pred)
    assert set(aucs) == {"up", "down"} and all(
        0 <= v <= 1 for row in aucs.values() for v in row.values() if v
    )


def test_walk_forward_refuses_too_little_data(dataset):
    with pytest.raises(ValueError, match="need more than"):
        walk_forward(dataset.iloc[:50], train_days=60)
    with pytest.raises(ValueError, match="unknown task"):
        walk_forward(dataset, ("sideways",))


def test_signals_are_stamped_at_the_close_they_were_made():
    idx = pd.date_range("2020-01-01", periods=3, freq="D", tz="UTC")
    s = signal_series(pd.Series([0.1, 0.2, 0.3], idx), pd.Series([0.9, 0.5, 0.0], idx))
    assert s["prebit_up"].index[0] == pd.Timestamp("2020-01-02", tz="UTC")
    assert np.allclose(s["prebit_hold"].to_numpy(), [0.1, 0.5, 1.0])
    assert rule_params("risk_off", 0.95) == (
        "prebit_hold",
        {"entry": pytest.approx(0.05), "exit": pytest.approx(0.05)},
    )
    with pytest.raises(ValueError):
        rule_params("risk_off", 1.0)


def test_rules_against_buy_and_hold():
    closes = 100 * np.cumprod(1 + 0.01 * np.sin(np.arange(120)))
    b = _bars(closes)
    bars = Bars.from_frame(b, "BTC/USD", "1d")
    calm = pd.Series(0.0, b.index)
    out = backtest_rules(bars, calm, calm, thresholds=(0.5,), fee=0.001)
    # never a crash predicted: risk_off holds from the first close, as buy-and-hold does
    assert out.rules["risk_off"]["0.5"].total_return == pytest.approx(out.baselines["buy_hold"].total_return)
    assert out.rules["long_up"]["0.5"].trade_count == 0
    scared = backtest_rules(bars, calm, pd.Series(1.0, b.index), thresholds=(0.5,))
    assert scared.rules["risk_off"]["0.5"].trade_count == 0
    assert scared.rules["risk_off"]["0.5"].total_return == 0


def test_placebo_alone_and_in_fold_auc(dataset):
    from oneprice.models.prebit.model import fold_auc_table

    pred = walk_forward(dataset, ("down",), (), train_days=60, step=30, placebo=True, seed=3)
    assert set(pred["model"]) == {"placebo"}
    inner = fold_auc_table(pred)["down"]["placebo"]
    assert inner is None or 0 <= inner <= 1
