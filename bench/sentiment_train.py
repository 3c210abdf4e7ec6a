"""Fine-tune the bundled MiniLM (low-rank adapter + head) for sentiment; the ensemble weight with TF-IDF.

Trains on sent_train.csv (Twitter Financial News, MIT) less a seeded, stratified 10% hold-out, plus the
crypto dev share (loss weight ``--crypto-weight``). The hold-out keeps the best checkpoint and chooses
the ensemble weight; sent_valid.csv and the crypto test share are not read here.

    python bench/sentiment_train.py [--epochs 2] [--out DIR] [--save]

``--save`` writes the adapter to oneprice/models/sentiment/data/minilm-lora and the ensemble weight to
data/bundled.json. Last line: one JSON object (hold-out figures, chosen weight, training time).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._shared import shared_dir  # noqa: E402
from oneprice.models.sentiment import LABELS, train  # noqa: E402
from oneprice.models.sentiment.model import BUNDLED_FILE, DATA_DIR, LORA  # noqa: E402
from oneprice.models.sentiment.tuned import TunedSentiment, fine_tune, save_adapter  # noqa: E402

CRYPTO = ROOT / "tests" / "fixtures" / "signals" / "crypto_tweets_labeled.csv"
TFNS = {0: "bearish", 1: "bullish", 2: "neutral"}


def holdout_split(tr: pd.DataFrame, frac: float = 0.1, seed: int = 15) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    held = np.zeros(len(tr), dtype=bool)
    for _, idx in tr.groupby("label").indices.items():
        held[rng.choice(idx, round(frac * len(idx)), replace=False)] = True
    return tr[~held], tr[held]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--crypto-weight", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=None, help="stop after N steps (timing runs)")
    ap.add_argument(
        "--out", type=Path, default=Path(os.environ.get("ONEPRICE_DATA_DIR", "/tmp/oneprice-bench"))
    )
    ap.add_argument(
        "--save", action="store_true", help="write the adapter and ensemble weight into the package"
    )
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    src = shared_dir() / "data" / "crypto" / "twitter_financial_news_sentiment"
    tr = pd.read_csv(src / "sent_train.csv")
    tr["label"] = tr.label.map(TFNS)
    crypto = pd.read_csv(CRYPTO)
    dev = crypto[crypto.split == "dev"]
    fit, held = holdout_split(tr)
    texts = list(fit.text) + list(dev.text)
    labels = list(fit.label) + list(dev.label)
    weights = [1.0] * len(fit) + [args.crypto_weight] * len(dev)
    print(f"train {len(fit)} + {len(dev)} crypto dev (weight {args.crypto_weight:g}); hold-out {len(held)}")
    t0 = time.perf_counter()
    _, net, record = fine_tune(
        texts,
        labels,
        weights,
        holdout=(list(held.text), list(held.label)),
        epochs=args.epochs,
        lr=args.lr,
        rank=args.rank,
        max_steps=args.max_steps,
        log=lambda s: print(s, flush=True),
    )
    meta = {
        **record["meta"],
        "crypto_weight": args.crypto_weight,
        "crypto_dev": len(dev),
        "holdout": len(held),
        "best_step": record.get("best_step"),
        "best_holdout_accuracy": record.get("best_holdout_accuracy"),
        "trained_on": "sent_train.csv (Twitter Financial News, MIT) less a 10% hold-out + crypto dev share",
    }
    out = save_adapter(net, args.out / "sentiment-lora", meta)
    tuned = TunedSentiment.load(out, name=LORA)
    train_s = time.perf_counter() - t0
    print(f"adapter saved to {out} after {train_s:.0f}s", flush=True)

    # The ensemble weight on the hold-out: TF-IDF fitted the same way (hold-out left out).
    tfidf = train(texts, labels, weights, c=20.0)
    p_t, p_l = tuned.predict_proba(list(held.text)), tfidf.predict_proba(list(held.text))
    y = np.array([LABELS.index(v) for v in held.label])
    grid = {}
    for w in np.linspace(0, 1, 11):
        grid[round(float(w), 1)] = float(((w * p_t + (1 - w) * p_l).argmax(1) == y).mean())
    for w, acc in grid.items():
        print(f"  hold-out accuracy, weight {w:.1f} on the fine-tuned model: {acc:.4f}")
    best = max(grid, key=lambda w: (grid[w], w))
    print(f"ensemble weight on the fine-tuned model: {best:.1f}")
    if args.save:
        save_adapter(net, DATA_DIR / LORA, meta)
        bundled = {"kind": "ensemble", "members": {LORA: best, "tfidf": round(1 - best, 1)}}
        bundled["chosen_on"] = f"sent_train hold-out ({len(held)} rows) accuracy"
        (DATA_DIR / BUNDLED_FILE).write_text(json.dumps(bundled, indent=2) + "\n")
        print(f"saved the adapter and {BUNDLED_FILE} into {DATA_DIR}")
    print(
        json.dumps(
            {
                "train_seconds": round(train_s, 1),
                "steps": record["steps"],
                "best_step": record.get("best_step"),
                "holdout_accuracy": {"tuned": grid[1.0], "tfidf": grid[0.0], "ensemble": grid[best]},
                "ensemble_weight": best,
                "evals": record["evals"],
            }
        )
    )


if __name__ == "__main__":
    main()
