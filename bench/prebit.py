"""PreBit-style extreme-move model: walk-forward AUCs, placebo, and the trading rule after fees.

Reads ../shared/data/crypto: yfinance_daily (BTC-USD and the correlated assets) and
cryptop12_tweets/btc_tweets_top60_per_day.csv.gz (73,839 BTC tweets, 2017-09 to 2021-02), scores the
tweets with the bundled sentiment model, builds the daily dataset (TA-Lib indicators, assets carried
over weekends, tweet aggregates and text), runs the walk-forward (365 training days, 30-day steps) for
the indicators-only, text-only, fused and placebo models, and backtests the rules on the fused
probabilities with a 0.1% fee against buy-and-hold and an SMA 10/50 crossover.

    python bench/prebit.py [--threshold 0.05] [--vol-k 1.5] [--fee 0.001]

Last line: one JSON object with folds, oos_days, auc per task and model, and the trading figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._shared import shared_dir  # noqa: E402
from oneprice.backtest import Bars  # noqa: E402
from oneprice.models.prebit import build_dataset, read_daily, read_tweets, walk_forward  # noqa: E402
from oneprice.models.prebit.model import auc_table, fold_auc_table  # noqa: E402
from oneprice.models.sentiment import load_model, score_texts  # noqa: E402
from oneprice.services.results import to_json  # noqa: E402
from oneprice.services.signals import backtest_rules  # noqa: E402

ASSETS = {"gold": "GC_F.csv", "sp_fut": "ES_F.csv", "crude": "CL_F.csv", "qqq": "QQQ.csv", "spy": "SPY.csv"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, default=0.05)
    ap.add_argument("--vol-k", type=float, default=1.5)
    ap.add_argument("--fee", type=float, default=0.001)
    ap.add_argument("--train-days", type=int, default=365)
    ap.add_argument("--step", type=int, default=30)
    ap.add_argument("--tasks", default="up,down", help="of up, down, up_vol, down_vol")
    ap.add_argument("--placebo-seeds", type=int, default=5, help="placebo runs (shuffles) per task")
    ap.add_argument("--dataset", type=Path, default=None, help="reuse / write the built dataset here")
    args = ap.parse_args()
    crypto = shared_dir() / "data" / "crypto"
    t0 = time.perf_counter()
    btc, rej = read_daily(crypto / "yfinance_daily" / "BTC-USD.csv")
    assets = {k: read_daily(crypto / "yfinance_daily" / f)[0] for k, f in ASSETS.items()}
    tweets, trej = read_tweets(crypto / "cryptop12_tweets" / "btc_tweets_top60_per_day.csv.gz")
    print(f"BTC days {len(btc)} (rejects {dict(rej)}), tweets {len(tweets)} (rejects {dict(trej)})")
    clf = load_model()
    t = time.perf_counter()
    if args.dataset is not None and args.dataset.is_file():
        ds = pd.read_parquet(args.dataset)
    else:
        ds = build_dataset(
            btc,
            assets,
            tweets,
            lambda texts: score_texts(clf, texts),
            threshold=args.threshold,
            vol_k=args.vol_k,
        )
        if args.dataset is not None:
            ds.to_parquet(args.dataset)
    print(
        f"dataset {ds.shape} {ds.index[0].date()}..{ds.index[-1].date()}, tweets scored and pooled in "
        f"{time.perf_counter() - t:.0f}s"
    )
    for col in ("y_up", "y_down", "y_up_vol", "y_down_vol"):
        print(f"  base rate {col}: {ds[col].mean():.3f}")
    t = time.perf_counter()
    tasks = tuple(x.strip() for x in args.tasks.split(",") if x.strip())
    pred = walk_forward(ds, tasks, train_days=args.train_days, step=args.step)
    print(f"walk-forward in {time.perf_counter() - t:.0f}s")
    aucs, within = auc_table(pred), fold_auc_table(pred)
    for task, row in aucs.items():
        print(f"  AUC {task:9s} " + "  ".join(f"{k} {v:.3f}" for k, v in sorted(row.items())))
        print(
            f"  mean in-fold AUC {task:9s} "
            + "  ".join(f"{k} {v:.3f}" for k, v in sorted(within[task].items()))
        )
    placebos: dict[str, list[float]] = {task: [aucs[task]["placebo"]] for task in tasks}
    for seed in range(1, args.placebo_seeds):
        more = auc_table(walk_forward(ds, tasks, (), args.train_days, args.step, placebo=True, seed=seed))
        for task in tasks:
            placebos[task].append(more[task]["placebo"])
    for task, vals in placebos.items():
        print(f"  placebo AUC {task}: {', '.join(f'{v:.3f}' for v in vals)} (mean {np.mean(vals):.3f})")
    fused = pred[pred.model == "fusion"]
    p_up = fused[fused.task == "up"]["p"]
    p_down = fused[fused.task == "down"]["p"]
    days = p_up.index.intersection(p_down.index)
    oos = ds.loc[days]
    bars = Bars.from_frame(oos[["open", "high", "low", "close", "volume"]], "BTC/USD", "1d")
    trading = backtest_rules(bars, p_up.loc[days], p_down.loc[days], fee=args.fee)
    print(f"buy_hold {to_json(trading.baselines['buy_hold'])}")
    print(f"sma_10_50 {to_json(trading.baselines['sma_10_50'])}")
    for rule, rows in trading.rules.items():
        for theta, r in rows.items():
            print(f"  {rule:8s} theta {theta:4s} {to_json(r)}")
    out = {
        "folds": int(pred["fold"].nunique()),
        "oos_days": len(days),
        "oos_span": [str(days[0].date()), str(days[-1].date())],
        "threshold": args.threshold,
        "vol_k": args.vol_k,
        "base_rate": {
            c: round(float(np.nanmean(oos[c])), 4) for c in ("y_up", "y_down", "y_up_vol", "y_down_vol")
        },
        "auc": {
            task: {k: None if v is None else round(v, 4) for k, v in row.items()}
            for task, row in aucs.items()
        },
        "auc_mean_in_fold": {
            task: {k: None if v is None else round(v, 4) for k, v in row.items()}
            for task, row in within.items()
        },
        "placebo_auc_by_seed": {task: [round(v, 4) for v in vals] for task, vals in placebos.items()},
        "fee": args.fee,
        "trading": to_json(trading),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
