"""Signal use cases: sentiment of a file of texts, and the PreBit-style dataset, evaluation, model and
predictions; series land in the ``signals`` table (upserted on source, key, ts) for the ``signal``
backtest strategy and the dashboard.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from oneprice.core.errors import ConfigError, InputError, NotFoundError, ParseError
from oneprice.db import session_scope
from oneprice.db.models_backtest import Signal
from oneprice.db.upsert import upsert
from oneprice.services.container import Services
from oneprice.services.results import INLINE, OMIT_NONE

if TYPE_CHECKING:
    from oneprice.services.backtest import RunSeries

SENTIMENT_SOURCE = "sentiment"
PREBIT_SOURCES = ("prebit_up", "prebit_down", "prebit_hold")
OUT_COLUMNS = ("label", "p_bearish", "p_neutral", "p_bullish", "score")

__all__ = [
    "list_signals",
    "prebit_build",
    "prebit_eval",
    "prebit_predict",
    "prebit_train",
    "read_signal",
    "sentiment_file",
]


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentimentMetrics:
    n: int
    accuracy: float
    macro_f1: float
    labels: list[str]
    confusion: list[list[int]]  # rows: truth, columns: predicted, in ``labels`` order
    texts_per_s: float | None = field(default=None, metadata=OMIT_NONE)  # the model's speed here


@dataclass(frozen=True)
class SentimentReport:
    rows: int
    out: str
    model: str
    seconds: float
    texts_per_s: float | None
    label_counts: dict[str, int]
    metrics: dict[str, SentimentMetrics] | None = field(default=None, metadata=OMIT_NONE)  # model -> scores


@dataclass(frozen=True)
class SignalSeries:
    source: str
    key: str
    count: int
    first: datetime
    last: datetime


@dataclass(frozen=True)
class SignalSpan:
    """A stored series with its span as ISO text (for the dashboard)."""

    source: str
    key: str
    count: int
    first: str
    last: str


@dataclass(frozen=True)
class SignalPoint:
    ts: str  # ISO
    value: float | None
    meta: dict[str, Any] = field(metadata=INLINE)  # the day's bar (open, high, low, close), model...


@dataclass(frozen=True)
class RuleSummary:
    trade_count: float | None
    total_return: float | None
    sharpe: float | None
    max_drawdown: float | None
    exposure: float | None
    fees_paid: float | None


@dataclass(frozen=True)
class RulesBacktest:
    baselines: dict[str, RuleSummary] = field(metadata=INLINE)  # buy_hold, sma_<fast>_<slow>
    rules: dict[str, dict[str, RuleSummary]]  # rule -> threshold -> summary


@dataclass(frozen=True)
class PrebitDataset:
    rows: int
    first: str
    last: str
    columns: int
    rejects: dict[str, dict[str, int]]  # input -> reason -> rows
    base_rates: dict[str, float]  # label column -> share of days
    sentiment_signals_written: int
    out: str


@dataclass(frozen=True)
class PrebitEval:
    folds: int
    oos_days: int
    oos_span: list[str]
    auc: dict[str, dict[str, float | None]]  # task -> model -> AUC
    trading_model: str
    trading: RulesBacktest
    signals_written: int | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class TrainSpan:
    rows: int
    first: str
    last: str


@dataclass(frozen=True)
class PrebitTrained:
    out: str
    kind: str
    trained: dict[str, TrainSpan]  # task -> labeled days used


@dataclass(frozen=True)
class PrebitLatest:
    date: str
    p_up: float
    p_down: float


@dataclass(frozen=True)
class PrebitPrediction:
    rows: int
    latest: PrebitLatest | None
    out: str | None = field(default=None, metadata=OMIT_NONE)
    signals_written: int | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class RunCurve:
    metrics: dict[str, Any]  # metric name -> value (NaN as None)
    equity: RunSeries


@dataclass(frozen=True)
class RuleBacktest:
    runs: dict[str, RunCurve] = field(metadata=INLINE)  # "<rule> <threshold>", buy_hold, sma_10_50


# --- files -------------------------------------------------------------------------------------


def _read_frame(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, compression="infer")
    except pd.errors.EmptyDataError as exc:
        raise ParseError("empty_file", f"{path} is empty") from exc
    except (ValueError, OSError) as exc:
        raise ParseError("bad_file", f"cannot read {path}: {exc}") from exc
    return df


def _write_frame(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as Parquet or CSV by suffix; another suffix or an unwritable path is an ``InputError``."""
    if path.suffix.lower() not in (".parquet", ".csv"):
        raise InputError(f"cannot write {path}: the suffix must be .csv or .parquet")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".parquet":
            df.to_parquet(path)
        else:
            df.to_csv(path, index=False)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


# --- sentiment ---------------------------------------------------------------------------------


def _cache_dir(svc: Services) -> Path:
    s = svc.settings
    return s.embed_cache_dir or s.data_dir / "cache"


def _model(svc: Services, name: str | None) -> Any:
    """A sentiment model; embedding heads encode through the cached embedder of ``svc``'s data dir."""
    from oneprice.models.sentiment import load_model

    held: list[Any] = []

    def encode(texts: list[str]) -> np.ndarray:
        from oneprice.alignment.embed import BUNDLED, Embedder

        if not held:
            held.append(Embedder(BUNDLED, cache_dir=_cache_dir(svc)))
        return np.asarray(held[0].encode(texts))

    return load_model(name, encode=encode)


def _truth(values: pd.Series, label_map: dict[str, str] | None) -> list[str]:
    from oneprice.models.sentiment.model import LABELS, NAME_MAP

    out = []
    for v in values.astype(str).str.strip():
        lab = (label_map or {}).get(v, v).lower()
        lab = NAME_MAP.get(lab, lab)
        if lab not in LABELS:
            raise ParseError("bad_label", f"label {v!r} is not bearish/neutral/bullish; pass --label-map")
        out.append(lab)
    return out


def _metrics(truth: list[str], pred: list[str]) -> SentimentMetrics:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    from oneprice.models.sentiment.model import LABELS

    return SentimentMetrics(
        n=len(truth),
        accuracy=float(accuracy_score(truth, pred)),
        macro_f1=float(f1_score(truth, pred, labels=list(LABELS), average="macro")),
        labels=list(LABELS),
        confusion=confusion_matrix(truth, pred, labels=list(LABELS)).tolist(),
    )


def sentiment_file(
    svc: Services,
    in_path: Path,
    out_path: Path,
    text_column: str = "text",
    model: str | None = None,
    batch_size: int = 512,
    label_column: str | None = None,
    label_map: dict[str, str] | None = None,
    compare: str | None = None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> SentimentReport:
    """Score every row's text; write the input columns plus label, p_bearish, p_neutral, p_bullish, score.

    With ``label_column`` the rows are also scored against their labels (accuracy, macro-F1, confusion
    matrix), and so is the ``compare`` model in the same run. Input columns named like an output column
    are kept with an ``_in`` suffix.
    """
    from oneprice.models.sentiment import score_texts

    df = _read_frame(Path(in_path))
    if text_column not in df.columns:
        raise ParseError(
            f"missing_field:{text_column}",
            f"{in_path} has no column {text_column!r}; columns: {', '.join(map(str, df.columns))}",
        )
    if label_column is not None and label_column not in df.columns:
        raise ParseError(f"missing_field:{label_column}", f"{in_path} has no label column {label_column!r}")
    if len(df) == 0:
        raise ParseError("empty_file", f"{in_path} has a header but no rows")
    truth = _truth(df[label_column], label_map) if label_column else None
    texts = df[text_column].tolist()
    clf = _model(svc, model)
    if on_start:
        on_start(len(texts))
    t = time.perf_counter()
    scored = score_texts(clf, texts, batch_size=batch_size, progress=progress)
    elapsed = time.perf_counter() - t
    out = df.rename(columns={c: f"{c}_in" for c in OUT_COLUMNS if c in df.columns})
    out = pd.concat([out.reset_index(drop=True), scored], axis=1)
    _write_frame(out, Path(out_path))
    metrics: dict[str, SentimentMetrics] | None = None
    if truth is not None:
        speed = round(len(texts) / max(elapsed, 1e-9), 1)
        metrics = {clf.name: replace(_metrics(truth, list(scored["label"])), texts_per_s=speed)}
        if compare:
            other = _model(svc, compare)
            t = time.perf_counter()
            pred = list(score_texts(other, texts, batch_size=batch_size).label)
            speed = round(len(texts) / max(time.perf_counter() - t, 1e-9), 1)
            metrics[other.name] = replace(_metrics(truth, pred), texts_per_s=speed)
    return SentimentReport(
        rows=len(df),
        out=str(out_path),
        model=clf.name,
        seconds=round(elapsed, 2),
        texts_per_s=round(len(df) / elapsed, 1) if elapsed > 0 else None,
        label_counts=scored["label"].value_counts().to_dict(),
        metrics=metrics,
    )


# --- signals table -----------------------------------------------------------------------------


def _upsert_points(svc: Services, source: str, key: str, rows: list[tuple[datetime, float, dict]]) -> int:
    data = [
        {"source": source, "key": key, "market_id": None, "ts": ts, "value": float(v), "meta": meta}
        for ts, v, meta in rows
        if v is not None and math.isfinite(float(v))
    ]
    with session_scope(svc.engine) as s:
        counts, _ = upsert(s, Signal, data, keys=("source", "key", "ts"))
    return counts.inserted + counts.updated


def list_signals(svc: Services) -> list[SignalSeries]:
    """Stored series: source, key, count, first and last timestamp."""
    with session_scope(svc.engine) as s:
        rows = s.execute(
            select(Signal.source, Signal.key, func.count(), func.min(Signal.ts), func.max(Signal.ts))
            .group_by(Signal.source, Signal.key)
            .order_by(Signal.source, Signal.key)
        ).all()
    return [SignalSeries(a, b, int(n), f, la) for a, b, n, f, la in rows]


def read_signal(svc: Services, source: str, key: str) -> pd.DataFrame:
    """One stored series as a frame (ts index; value and the meta fields as columns)."""
    with session_scope(svc.engine) as s:
        rows = s.execute(
            select(Signal.ts, Signal.value, Signal.meta)
            .where(Signal.source == source, Signal.key == key)
            .order_by(Signal.ts)
        ).all()
    if not rows:
        have = ", ".join(f"{r.source}:{r.key}" for r in list_signals(svc)) or "none"
        raise NotFoundError(f"no signals from {source!r} for {key!r}; stored (source:key): {have}")
    meta = pd.DataFrame([dict(r[2] or {}) for r in rows])
    df = pd.DataFrame(
        {"value": [r[1] for r in rows]}, index=pd.DatetimeIndex([r[0] for r in rows], name="ts")
    )
    return pd.concat([df, meta.set_axis(df.index)], axis=1)


# --- PreBit ----

KEEP = ("trade_count", "total_return", "sharpe", "max_drawdown", "exposure", "fees_paid")


def _summary(res: Any) -> RuleSummary:
    m = res.metrics()
    return RuleSummary(**{k: (None if m.get(k) is None else round(float(m[k]), 4)) for k in KEEP})


def backtest_rules(
    bars: Any,
    p_up: pd.Series,
    p_down: pd.Series,
    thresholds: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95),
    fee: float = 0.001,
    sma: tuple[int, int] = (10, 50),
) -> RulesBacktest:
    """Each rule at each threshold, with buy-and-hold and an SMA crossover on the same bars and fees."""
    from oneprice.backtest import CostModel, backtest
    from oneprice.backtest.strategies import align_signal
    from oneprice.models.prebit.trading import DAY, RULES, rule_params, signal_series

    cost = CostModel(fee=fee)
    series = signal_series(p_up, p_down)
    baselines = {
        "buy_hold": _summary(backtest(bars, "buy_hold", {}, cost)),
        f"sma_{sma[0]}_{sma[1]}": _summary(backtest(bars, "sma", {"fast": sma[0], "slow": sma[1]}, cost)),
    }
    rules: dict[str, dict[str, RuleSummary]] = {}
    for rule in RULES:
        for theta in thresholds:
            source, params = rule_params(rule, theta)
            s = series[source]
            sig = align_signal(bars, pd.DatetimeIndex(s.index), s.to_numpy(np.float64), DAY.total_seconds())
            res = backtest(bars, "signal", params, cost, signal=sig)
            rules.setdefault(rule, {})[f"{theta:g}"] = _summary(res)
    return RulesBacktest(baselines, rules)


# --- PreBit build, eval, train, predict ---------------------------------------------------------


def _btc_bars(svc: Services, btc: Path | None, symbol: str, exchange: str) -> tuple[pd.DataFrame, dict]:
    from oneprice.models.prebit import read_daily

    if btc is not None:
        bars, rejects = read_daily(btc)
        return bars, dict(rejects)
    from oneprice.backtest import load_bars

    b = load_bars(svc.engine, symbol, "1d", None, None, exchange)
    frame = b.frame()
    frame.index = pd.DatetimeIndex(frame.index).floor("D")
    return frame[["open", "high", "low", "close", "volume"]], {}


def _bar_meta(row: pd.Series) -> dict[str, float]:
    return {k: round(float(row[k]), 6) for k in ("open", "high", "low", "close")}


def prebit_build(
    svc: Services,
    out: Path,
    btc: Path | None = None,
    assets: dict[str, Path] | None = None,
    tweets: Path | None = None,
    symbol: str = "BTC/USD",
    exchange: str = "binance",
    threshold: float = 0.05,
    vol_k: float = 1.5,
    model: str | None = None,
    start: str | None = None,
    end: str | None = None,
    write_db: bool = True,
) -> PrebitDataset:
    """Build the daily dataset (Parquet) from a BTC file or the ``bars`` table, asset files and tweets;
    the daily tweet sentiment goes to ``signals`` (source ``sentiment``, key ``symbol``)."""
    from oneprice.models.prebit import build_dataset, read_daily, read_tweets
    from oneprice.models.sentiment import score_texts

    bars, rejects = _btc_bars(svc, btc, symbol, exchange)
    if len(bars) == 0:
        raise NotFoundError(f"no daily bars for {symbol}")
    asset_frames, report_rejects = {}, {"btc": rejects}
    for name, path in (assets or {}).items():
        asset_frames[name], r = read_daily(path)
        report_rejects[name] = dict(r)
    tw = None
    if tweets is not None:
        tw, r = read_tweets(tweets)
        report_rejects["tweets"] = dict(r)
        if len(tw) == 0:
            raise ParseError("no_tweets", f"{tweets} has no usable tweets")
    clf = _model(svc, model) if tw is not None else None
    ds = build_dataset(
        bars,
        asset_frames,
        tw,
        (lambda texts: score_texts(clf, texts)) if clf is not None else None,
        threshold=threshold,
        vol_k=vol_k,
        start=start,
        end=end,
    )
    if len(ds) == 0:
        raise NotFoundError("no days in the requested span")
    ds.attrs.update({"symbol": symbol})
    _write_frame(ds.reset_index(), Path(out))
    written = 0
    if write_db and "tw_sent_mean" in ds.columns:
        rows = [
            (
                ts + pd.Timedelta(days=1),
                r["tw_sent_mean"],
                {**_bar_meta(r), "tweets": round(math.expm1(r["tw_count"]))},
            )
            for ts, r in ds.iterrows()
            if r["tw_missing"] == 0
        ]
        written = _upsert_points(svc, SENTIMENT_SOURCE, symbol, rows)
    return PrebitDataset(
        rows=len(ds),
        first=str(ds.index[0].date()),
        last=str(ds.index[-1].date()),
        columns=len(ds.columns),
        rejects=report_rejects,
        base_rates={c: round(float(ds[c].mean()), 4) for c in ("y_up", "y_down", "y_up_vol", "y_down_vol")},
        sentiment_signals_written=written,
        out=str(out),
    )


def _load_dataset(path: Path) -> pd.DataFrame:
    df = _read_frame(Path(path))
    if "date" not in df.columns:
        raise ParseError("missing_field:date", f"{path} is not a dataset written by `signals prebit build`")
    idx = pd.to_datetime(df.pop("date"), utc=True)
    return df.set_axis(pd.DatetimeIndex(idx, name="date"))


def _write_prebit(
    svc: Services, ds: pd.DataFrame, p_up: pd.Series, p_down: pd.Series, symbol: str, model: str
) -> int:
    from oneprice.models.prebit.trading import signal_series

    n = 0
    for source, s in signal_series(p_up, p_down).items():
        rows = [
            (ts, v, {**_bar_meta(ds.loc[ts - pd.Timedelta(days=1)]), "model": model}) for ts, v in s.items()
        ]
        n += _upsert_points(svc, source, symbol, rows)
    return n


def prebit_eval(
    svc: Services,
    data: Path,
    train_days: int = 365,
    step: int = 30,
    fee: float = 0.001,
    tasks: tuple[str, ...] = ("up", "down"),
    write_db: bool = False,
    symbol: str = "BTC/USD",
) -> PrebitEval:
    """Walk-forward AUCs (indicators-only, text-only, fused, placebo) and the rules' backtests after fees;
    ``write_db`` stores the out-of-sample fused probabilities as signals."""
    from oneprice.backtest import Bars
    from oneprice.models.prebit import FEATURE_SETS, walk_forward
    from oneprice.models.prebit.model import auc_table

    ds = _load_dataset(data)
    kinds = tuple(k for k in FEATURE_SETS if k == "ta_only" or any(c.startswith("tw_") for c in ds.columns))
    tasks = tuple(dict.fromkeys((*tasks, "up", "down")))
    pred = walk_forward(ds, tasks, kinds, train_days=train_days, step=step)
    model = "fusion" if "fusion" in kinds else "ta_only"
    fused = pred[pred.model == model]
    p_up, p_down = fused[fused.task == "up"]["p"], fused[fused.task == "down"]["p"]
    days = p_up.index.intersection(p_down.index)
    bars = Bars.from_frame(ds.loc[days, ["open", "high", "low", "close", "volume"]], symbol, "1d")
    trading = backtest_rules(bars, p_up.loc[days], p_down.loc[days], fee=fee)
    written = (
        _write_prebit(svc, ds, p_up.loc[days], p_down.loc[days], symbol, f"{model}:oos") if write_db else None
    )
    return PrebitEval(
        folds=int(pred["fold"].nunique()),
        oos_days=len(days),
        oos_span=[str(days[0].date()), str(days[-1].date())],
        auc=auc_table(pred),
        trading_model=model,
        trading=trading,
        signals_written=written,
    )


def prebit_train(
    svc: Services, data: Path, out: Path, kind: str = "fusion", train_days: int | None = 365
) -> PrebitTrained:
    """Fit the up and down models on the last ``train_days`` labeled days (None: all) and save them."""
    import joblib

    from oneprice.models.prebit import TASKS, PrebitModel

    ds = _load_dataset(data)
    models: dict[str, Any] = {}
    info: dict[str, dict[str, Any]] = {}
    for task in ("up", "down"):
        lab = ds[ds[TASKS[task]].notna()]
        lab = lab.iloc[-train_days:] if train_days else lab
        models[task] = PrebitModel(kind).fit(lab, lab[TASKS[task]].to_numpy(int))
        info[task] = {"rows": len(lab), "first": str(lab.index[0].date()), "last": str(lab.index[-1].date())}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"kind": kind, "models": models, "info": info}, out)
    return PrebitTrained(str(out), kind, {task: TrainSpan(**v) for task, v in info.items()})


def prebit_predict(
    svc: Services,
    data: Path,
    model: Path,
    out: Path | None = None,
    write_db: bool = True,
    symbol: str = "BTC/USD",
    last: int | None = None,
) -> PrebitPrediction:
    """P(extreme up) and P(extreme down) for the next day of each row (the last ``last`` rows)."""
    import joblib

    if not Path(model).is_file():
        raise NotFoundError(f"no model file {model}; run `oneprice signals prebit train` first")
    try:
        bundle = joblib.load(model)
        models = bundle["models"]
    except Exception as exc:  # joblib raises many kinds on a foreign file
        raise ConfigError(f"{model} is not a model written by `signals prebit train`: {exc}") from exc
    ds = _load_dataset(data)
    ds = ds.iloc[-last:] if last else ds
    p_up = pd.Series(models["up"].predict_proba(ds), index=ds.index)
    p_down = pd.Series(models["down"].predict_proba(ds), index=ds.index)
    frame = pd.DataFrame({"date": ds.index.date, "p_up": p_up.to_numpy(), "p_down": p_down.to_numpy()})
    last_row = frame.iloc[-1] if len(frame) else None
    if out is not None:
        _write_frame(frame, Path(out))
    written = (
        _write_prebit(svc, ds, p_up, p_down, symbol, f"{bundle['kind']}:{Path(model).name}")
        if write_db
        else None
    )
    latest = (
        None
        if last_row is None
        else PrebitLatest(
            str(last_row["date"]), round(float(last_row["p_up"]), 4), round(float(last_row["p_down"]), 4)
        )
    )
    return PrebitPrediction(len(frame), latest, None if out is None else str(out), written)


def prebit_numbers(x: Any) -> Any:
    """JSON-safe copy (numpy scalars and NaN to plain values)."""
    if isinstance(x, dict):
        return {str(k): prebit_numbers(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [prebit_numbers(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


# --- dashboard reads ---------------------------------------------------------------------------------


def catalog(svc: Services) -> list[SignalSpan]:
    """Stored series with JSON-friendly spans."""
    spans = list_signals(svc)
    return [SignalSpan(r.source, r.key, r.count, r.first.isoformat(), r.last.isoformat()) for r in spans]


def series(svc: Services, source: str, key: str) -> list[SignalPoint]:
    """One stored series as rows: ts, value and its meta (the day's bar for sentiment and PreBit points)."""
    df = read_signal(svc, source, key)
    out = []
    for ts, row in df.to_dict("index").items():
        clean = prebit_numbers(row)
        value = clean.pop("value")
        out.append(SignalPoint(ts.isoformat(), value, clean))
    return out


def rule_backtest(
    svc: Services, key: str, rule: str = "risk_off", threshold: float = 0.95, fee: float = 0.001
) -> RuleBacktest:
    """Backtest a PreBit rule on the stored probabilities (bars from the points' meta) with fees, next to
    buy-and-hold and an SMA 10/50 crossover on the same days."""
    from oneprice.backtest import Bars, CostModel, backtest
    from oneprice.backtest import store as bt_store
    from oneprice.backtest.strategies import align_signal
    from oneprice.models.prebit.trading import DAY, rule_params

    source, params = rule_params(rule, threshold)
    df = read_signal(svc, source, key)
    if not {"open", "high", "low", "close"} <= set(df.columns):
        raise NotFoundError(
            f"{source}:{key} points carry no bars; write them with `signals prebit eval --write-db`"
        )
    frame = df[["open", "high", "low", "close"]].dropna().set_axis(df.index - DAY)
    frame["volume"] = 0.0
    bars = Bars.from_frame(frame, key, "1d")
    sig = align_signal(
        bars, pd.DatetimeIndex(df.index), df["value"].to_numpy(np.float64), DAY.total_seconds()
    )
    cost = CostModel(fee=fee)
    runs = {
        f"{rule} {threshold:g}": backtest(bars, "signal", params, cost, signal=sig),
        "buy_hold": backtest(bars, "buy_hold", {}, cost),
        "sma_10_50": backtest(bars, "sma", {"fast": 10, "slow": 50}, cost),
    }
    from oneprice.services.backtest import RunSeries

    return RuleBacktest(
        {
            name: RunCurve(prebit_numbers(r.metrics()), RunSeries(**prebit_numbers(bt_store.series_of(r))))
            for name, r in runs.items()
        }
    )
