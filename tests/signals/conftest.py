"""Signal fixtures: the committed slices (BTC, gold, SPY daily bars; a few tweets per day)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oneprice.models.prebit import build_dataset, read_daily, read_tweets
from oneprice.models.sentiment import load_model, score_texts

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "signals"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def bundled():
    return load_model()


@pytest.fixture(scope="session")
def slices() -> dict[str, pd.DataFrame]:
    btc, _ = read_daily(DATA / "BTC-USD.csv")
    gold, _ = read_daily(DATA / "GC_F.csv")
    spy, _ = read_daily(DATA / "SPY.csv")
    tweets, _ = read_tweets(DATA / "btc_tweets_slice.csv.gz")
    return {"btc": btc, "gold": gold, "spy": spy, "tweets": tweets}


@pytest.fixture(scope="session")
def dataset(slices, bundled) -> pd.DataFrame:
    return build_dataset(
        slices["btc"],
        {"gold": slices["gold"], "spy": slices["spy"]},
        slices["tweets"],
        lambda texts: score_texts(bundled, texts),
    )
