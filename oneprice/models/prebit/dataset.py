"""The daily dataset: one row per UTC day, features known at that day's close, labels from the next day.

No look-ahead: a day's row uses BTC bars up to and including that day, each asset's last session
closed on or before that date (so a weekend carries Friday's value), and tweets created that UTC day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from oneprice.core.errors import NotFoundError, ParseError
from oneprice.models.sentiment.text import normalise

OHLCV = ("open", "high", "low", "close", "volume")
TIME_COLUMNS = ("date", "ts", "timestamp", "datetime", "time", "created_at_utc", "created_at")
LABEL_COLUMNS = ("y_up", "y_down", "y_up_vol", "y_down_vol")


def _read_table(path: str | Path) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"no such file: {p}")
    if p.suffix == ".parquet":
        return pd.read_parquet(p)
    try:
        return pd.read_csv(p, compression="infer")
    except pd.errors.EmptyDataError as exc:
        raise ParseError("empty_file", f"{p} is empty") from exc


def _time_column(df: pd.DataFrame, path: object) -> str:
    col = next((c for c in TIME_COLUMNS if c in df.columns), None)
    if col is None:
        raise ParseError(
            "missing_field:date", f"{path} has no date column (one of {', '.join(TIME_COLUMNS)})"
        )
    return col


def read_daily(path: str | Path) -> tuple[pd.DataFrame, Counter[str]]:
    """Daily OHLC(V) bars on a UTC-midnight index; bad rows are skipped and counted by reason."""
    df = _read_table(path)
    df = df.rename(columns={c: str(c).strip().lower() for c in df.columns}).rename(columns={"vol": "volume"})
    tcol = _time_column(df, path)
    missing = [c for c in OHLCV[:4] if c not in df.columns]
    if missing:
        raise ParseError(f"missing_field:{missing[0]}", f"{path} needs columns open, high, low, close")
    rejects: Counter[str] = Counter()
    ts = pd.to_datetime(df[tcol], utc=True, errors="coerce", format="mixed")
    out = pd.DataFrame({c: pd.to_numeric(df[c], errors="coerce") for c in OHLCV if c in df.columns})
    if "volume" not in out:
        out["volume"] = 0.0
    out["volume"] = out["volume"].fillna(0.0)
    bad_ts = ts.isna().to_numpy()
    bad_px = (out[["open", "high", "low", "close"]].isna().any(axis=1) | (out["close"] <= 0)).to_numpy()
    rejects["bad_date"] += int(bad_ts.sum())
    rejects["bad_price"] += int((bad_px & ~bad_ts).sum())
    keep = ~(bad_ts | bad_px)
    out = out[keep].set_axis(ts[keep].dt.floor("D")).sort_index()
    dup = out.index.duplicated(keep="last")
    rejects["duplicate_day"] += int(dup.sum())
    out = out[~dup]
    out.index.name = "date"
    return out, +rejects


def read_tweets(path: str | Path) -> tuple[pd.DataFrame, Counter[str]]:
    """Tweets with a UTC time and a text (engagement from retweets + likes when present)."""
    df = _read_table(path)
    df = df.rename(columns={c: str(c).strip().lower() for c in df.columns})
    tcol = _time_column(df, path)
    if "text" not in df.columns:
        raise ParseError("missing_field:text", f"{path} has no text column")
    rejects: Counter[str] = Counter()
    ts = pd.to_datetime(df[tcol], utc=True, errors="coerce", format="mixed")
    text = df["text"].astype("string").str.strip()
    bad_ts, bad_text = ts.isna().to_numpy(), (text.isna() | (text == "")).to_numpy()
    rejects["bad_time"] += int(bad_ts.sum())
    rejects["empty_text"] += int((bad_text & ~bad_ts).sum())
    eng = sum(
        (
            pd.to_numeric(df[c], errors="coerce").fillna(0)
            for c in ("retweets_count", "likes_count")
            if c in df
        ),
        pd.Series(0.0, index=df.index),
    )
    keep = ~(bad_ts | bad_text)
    out = pd.DataFrame(
        {"ts": ts[keep], "text": text[keep].astype(str), "engagement": eng[keep].astype(float)}
    )
    return out.reset_index(drop=True), +rejects


def ta_features(btc: pd.DataFrame) -> pd.DataFrame:
    """TA-Lib indicators of daily BTC bars; each row uses bars up to that day only."""
    import talib

    o, h, low, c = (btc[k].to_numpy(np.float64) for k in ("open", "high", "low", "close"))
    v = btc["volume"].to_numpy(np.float64)
    lc = np.log(c)
    ret = np.diff(lc, prepend=np.nan)
    macd, _sig, hist = talib.MACD(c, 12, 26, 9)
    upper, mid, lower = talib.BBANDS(c, 20, 2.0, 2.0)
    k, d = talib.STOCH(h, low, c, 14, 3, talib.MA_Type.SMA, 3, talib.MA_Type.SMA)
    f = {
        "rsi14": talib.RSI(c, 14),
        "rsi7": talib.RSI(c, 7),
        "macd_hist": hist / c,
        "macd": macd / c,
        "bb_pctb": (c - lower) / (upper - lower),
        "bb_width": (upper - lower) / mid,
        "natr14": talib.NATR(h, low, c, 14),
        "adx14": talib.ADX(h, low, c, 14),
        "cci20": talib.CCI(h, low, c, 20),
        "willr14": talib.WILLR(h, low, c, 14),
        "stoch_k": k,
        "stoch_d": d,
        "mom10": talib.ROC(c, 10),
        "sma7_ratio": c / talib.SMA(c, 7) - 1,
        "sma30_ratio": c / talib.SMA(c, 30) - 1,
        "sma90_ratio": c / talib.SMA(c, 90) - 1,
        "ema_cross": talib.EMA(c, 12) / talib.EMA(c, 26) - 1,
        "vol7": talib.STDDEV(ret, 7),
        "vol30": talib.STDDEV(ret, 30),
        "ret1": ret,
        "ret3": talib.ROC(c, 3) / 100,
        "ret7": talib.ROC(c, 7) / 100,
        "ret30": talib.ROC(c, 30) / 100,
        "range1": (h - low) / c,
        "body1": (c - o) / o,
        "upper_wick": (h - np.maximum(o, c)) / c,
        "lower_wick": (np.minimum(o, c) - low) / c,
        "mfi14": talib.MFI(h, low, c, v, 14) if v.any() else np.full(len(c), np.nan),
        "vol_chg": np.log1p(v) - talib.SMA(np.log1p(v), 20),
    }
    return pd.DataFrame({f"ta_{n}": x for n, x in f.items()}, index=btc.index)


def asset_features(assets: Mapping[str, pd.DataFrame], days: pd.DatetimeIndex) -> pd.DataFrame:
    """Per asset: 1, 5, 20-session log returns and RSI, carried to ``days`` from the last session <= day."""
    import talib

    cols = {}
    for name, bars in assets.items():
        c = bars["close"].to_numpy(np.float64)
        lc = pd.Series(np.log(c), index=bars.index)
        f = pd.DataFrame(
            {
                f"asset_{name}_ret1": lc.diff(1),
                f"asset_{name}_ret5": lc.diff(5),
                f"asset_{name}_ret20": lc.diff(20),
                f"asset_{name}_rsi14": talib.RSI(c, 14),
            },
            index=bars.index,
        )
        cols[name] = f.reindex(days.union(f.index)).ffill().reindex(days)
    return pd.concat(cols.values(), axis=1) if cols else pd.DataFrame(index=days)


def tweet_features(
    tweets: pd.DataFrame,
    score: Callable[[list[str]], pd.DataFrame],
    days: pd.DatetimeIndex,
) -> pd.DataFrame:
    """Per UTC day: count, mean and engagement-weighted sentiment, bullish/bearish shares, and the text."""
    t = tweets.copy()
    t["day"] = t["ts"].dt.floor("D")
    s = score(list(t["text"]))
    t["score"] = s["score"].to_numpy()
    t["bull"] = (s["label"] == "bullish").to_numpy(float)
    t["bear"] = (s["label"] == "bearish").to_numpy(float)
    t["w"] = np.log1p(t["engagement"].clip(lower=0)) + 1.0
    t["ws"] = t["w"] * t["score"]
    t["norm"] = [normalise(x) for x in t["text"]]
    g = t.groupby("day")
    out = pd.DataFrame(
        {
            "tw_count": np.log1p(g.size()),
            "tw_sent_mean": g["score"].mean(),
            "tw_sent_wmean": g["ws"].sum() / g["w"].sum(),
            "tw_bull_share": g["bull"].mean(),
            "tw_bear_share": g["bear"].mean(),
            "tw_sent_std": g["score"].std(ddof=0),
            "doc": g["norm"].agg(" \n ".join),
        }
    ).reindex(days)
    num = [c for c in out.columns if c != "doc"]
    out["tw_missing"] = out["tw_count"].isna().astype(float)
    out[num] = out[num].fillna(0.0)
    out["tw_sent_mean_chg"] = out["tw_sent_mean"] - out["tw_sent_mean"].rolling(7, min_periods=1).mean()
    out["doc"] = out["doc"].fillna("")
    return out


def labels(btc: pd.DataFrame, threshold: float = 0.05, vol_k: float = 1.5) -> pd.DataFrame:
    """PreBit's labels from the next day's high and low against today's close; NaN on the last day.

    ``y_up``: next-day high >= close * (1 + threshold); ``y_down``: next-day low <= close * (1 - threshold).
    The volatility-scaled pair uses threshold = vol_k x the 30-day standard deviation of daily log returns
    known today.
    """
    if threshold <= 0 or vol_k <= 0:
        raise ValueError("threshold and vol_k must be positive")
    c = btc["close"]
    nxt_h, nxt_l = btc["high"].shift(-1), btc["low"].shift(-1)
    up, down = nxt_h / c - 1, nxt_l / c - 1
    sigma = np.log(c).diff().rolling(30).std()
    last = nxt_h.isna()
    out = pd.DataFrame(
        {
            "y_up": (up >= threshold).astype(float),
            "y_down": (down <= -threshold).astype(float),
            "y_up_vol": (up >= vol_k * sigma).astype(float),
            "y_down_vol": (down <= -vol_k * sigma).astype(float),
        },
        index=btc.index,
    )
    out.loc[last, :] = np.nan
    out.loc[sigma.isna(), ["y_up_vol", "y_down_vol"]] = np.nan
    # a missing next day (gap in the bars) has no label rather than a wrong one
    gap = (btc.index.to_series().shift(-1) - btc.index.to_series()) != pd.Timedelta(days=1)
    out.loc[gap.to_numpy(), :] = np.nan
    return out


def build_dataset(
    btc: pd.DataFrame,
    assets: Mapping[str, pd.DataFrame] | None = None,
    tweets: pd.DataFrame | None = None,
    score: Callable[[list[str]], pd.DataFrame] | None = None,
    threshold: float = 0.05,
    vol_k: float = 1.5,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """One row per BTC day between ``start`` and ``end`` (default: the tweets' span when tweets are given).

    Indicators are computed over the whole BTC history before the span is cut, so the first rows are warm.
    """
    if len(btc) == 0:
        raise ValueError("no BTC bars")
    days = pd.DatetimeIndex(btc.index)
    parts = [btc[list(OHLCV)], ta_features(btc), asset_features(assets or {}, days)]
    if tweets is not None and len(tweets):
        if score is None:
            raise ValueError("tweets need a sentiment scorer")
        parts.append(tweet_features(tweets, score, days))
        tday = tweets["ts"].dt.floor("D")
        start = start if start is not None else tday.min()
        end = end if end is not None else tday.max()
    parts.append(labels(btc, threshold, vol_k))
    ds = pd.concat(parts, axis=1)
    ds = ds.loc[_utc(start) if start is not None else None : _utc(end) if end is not None else None]
    ds.attrs.update({"threshold": threshold, "vol_k": vol_k})
    ds.index.name = "date"
    return ds


def _utc(x: str | pd.Timestamp) -> pd.Timestamp:
    t = pd.Timestamp(x)
    return t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")
