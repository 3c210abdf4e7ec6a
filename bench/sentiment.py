"""Sentiment: the bundled models against the frozen-MiniLM linear baseline, same process.

Reads ../shared/data/crypto/twitter_financial_news_sentiment (MIT) and the hand-labeled crypto tweets
in tests/fixtures/signals/crypto_tweets_labeled.csv (dev share: choices and training; test share: scored
once per released model). ``--use-saved`` scores the package's models as shipped: ``bundled`` (the
ensemble), ``minilm-lora`` (fine-tuned by bench/sentiment_train.py), ``tfidf`` and the ``minilm-linear``
baseline. Without it the TF-IDF model is refitted here; ``--save`` writes it and the baseline head into
oneprice/models/sentiment/data.

    python bench/sentiment.py --use-saved          # the reported figures
    python bench/sentiment.py [--save] [--choose]  # refit the TF-IDF model (and the baseline head)

Last line: one JSON object (accuracy, macro-F1, confusion matrices, texts/s on this CPU).
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
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._shared import shared_dir  # noqa: E402
from oneprice.models.sentiment import LABELS, load_model, score_texts, train  # noqa: E402
from oneprice.models.sentiment.model import (  # noqa: E402
    BASELINE,
    DATA_DIR,
    LORA,
    TFIDF,
    EmbeddingHead,
    TfidfSentiment,
)

CRYPTO = ROOT / "tests" / "fixtures" / "signals" / "crypto_tweets_labeled.csv"
TFNS = {0: "bearish", 1: "bullish", 2: "neutral"}
CRYPTO_WEIGHTS = (0.0, 3.0, 10.0, 30.0)


def metrics(y: list[str], pred: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    return {
        "n": len(y),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "macro_f1": round(float(f1_score(y, pred, labels=list(LABELS), average="macro")), 4),
        "confusion": confusion_matrix(y, pred, labels=list(LABELS)).tolist(),
    }


def fit(tr: pd.DataFrame, dev: pd.DataFrame | None, w: float, c: float) -> TfidfSentiment:
    texts, labels = list(tr.text), list(tr.label)
    weights = [1.0] * len(tr)
    if dev is not None and w > 0:
        texts += list(dev.text)
        labels += list(dev.label)
        weights += [w] * len(dev)
    return train(texts, labels, weights, c=c, meta={"crypto_weight": w})


def choose(tr: pd.DataFrame, dev: pd.DataFrame, c: float) -> float:
    """The crypto weight by 5-fold cross-validation on the crypto dev share only (features fixed once:
    the vocabulary of the finance tweets plus the dev share; no test text is seen)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    vocab = fit(tr, dev, 1.0, c)
    x_tr, x_dev = vocab.features(list(tr.text)), vocab.features(list(dev.text))
    y_tr = np.array([LABELS.index(v) for v in tr.label])
    y_dev = np.array([LABELS.index(v) for v in dev.label])
    scores = {}
    for w in CRYPTO_WEIGHTS:
        pred = np.zeros(len(dev), dtype=int)
        for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(x_dev, y_dev):
            x = sp.vstack([x_tr, x_dev[a]])
            y = np.concatenate([y_tr, y_dev[a]])
            sw = np.concatenate([np.ones(len(y_tr)), np.full(len(a), w)])
            pred[b] = LogisticRegression(C=c, max_iter=3000).fit(x, y, sample_weight=sw).predict(x_dev[b])
        scores[w] = f1_score(y_dev, pred, average="macro")
        print(f"  dev 5-fold macro-F1, crypto weight {w:g}: {scores[w]:.4f}", flush=True)
    return max(scores, key=lambda k: scores[k])


def baseline_head(tr: pd.DataFrame, cache: Path) -> EmbeddingHead:
    from sklearn.linear_model import LogisticRegression

    from oneprice.alignment.embed import BUNDLED, Embedder

    x = Embedder(BUNDLED, cache_dir=cache).encode(list(tr.text))
    y = np.array([LABELS.index(v) for v in tr.label])
    lr = LogisticRegression(C=1.0, max_iter=3000).fit(x, y)
    out = cache.parent / "bench_minilm_head"
    info = {"trained_on": f"sent_train.csv, first {len(tr)} rows", "C": 1.0}
    EmbeddingHead.save(out, BUNDLED, lr.coef_, lr.intercept_, info)
    return EmbeddingHead(out, Embedder(BUNDLED, cache_dir=cache).encode, name=BASELINE)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--save", action="store_true", help="write the bundled weights into the package")
    ap.add_argument("--choose", action="store_true", help="choose crypto weight and C on the dev share")
    ap.add_argument("--no-baseline", action="store_true", help="skip the MiniLM baseline (slow on CPU)")
    ap.add_argument("--use-saved", action="store_true", help="score the bundled weights, do not retrain")
    ap.add_argument("--baseline-limit", type=int, default=None, help="train the baseline on the first N rows")
    args = ap.parse_args()
    data_dir = Path(os.environ.get("ONEPRICE_DATA_DIR", "/tmp/oneprice-bench"))
    SHARED = shared_dir() / "data" / "crypto" / "twitter_financial_news_sentiment"
    tr = pd.read_csv(SHARED / "sent_train.csv")
    va = pd.read_csv(SHARED / "sent_valid.csv")
    tr["label"], va["label"] = tr.label.map(TFNS), va.label.map(TFNS)
    crypto = pd.read_csv(CRYPTO)
    dev, test = crypto[crypto.split == "dev"], crypto[crypto.split == "test"]
    c = 20.0
    if args.use_saved:
        from oneprice.alignment.embed import BUNDLED, Embedder

        encode = Embedder(BUNDLED).encode  # no cache: the baseline's texts/s is its real speed
        models: dict = {name: load_model(name, encode=encode) for name in ("bundled", LORA, TFIDF, BASELINE)}
        w = float(models[TFIDF].meta.get("crypto_weight", 0.0))
    else:
        w = choose(tr, dev, c) if args.choose else 10.0
        models = {"tfidf_finance_only": fit(tr, None, 0.0, c), TFIDF: fit(tr, dev, w, c)}
        models[TFIDF].meta.update(
            {
                "trained_on": "sent_train.csv (Twitter Financial News, MIT) + crypto dev share",
                "crypto_dev": len(dev),
            }
        )
    print(f"crypto weight {w:g}, C {c:g}")
    if args.save and not args.use_saved:
        models[TFIDF].save(DATA_DIR / TFIDF)
        print(f"saved the TF-IDF weights to {DATA_DIR / TFIDF}")
    if not args.no_baseline and not args.use_saved:
        head = baseline_head(tr.iloc[: args.baseline_limit], data_dir / "cache")
        models["minilm_linear"] = head
        if args.save:
            EmbeddingHead.save(
                DATA_DIR / BASELINE, head.meta["encoder"], head.coef, head.intercept, head.meta
            )
    out: dict = {"crypto_weight": w, "C": c, "sets": {}}
    for set_name, df in (("sent_valid", va), ("crypto_test", test)):
        out["sets"][set_name] = {}
        for name, m in models.items():
            t = time.perf_counter()
            pred = list(score_texts(m, list(df.text)).label)
            rate = len(df) / (time.perf_counter() - t)
            r = metrics(list(df.label), pred)
            r["texts_per_s"] = round(rate, 1)
            out["sets"][set_name][name] = r
            print(
                f"{set_name:12s} {name:20s} acc {r['accuracy']:.4f} macro-F1 {r['macro_f1']:.4f} "
                f"{rate:8.1f} texts/s  confusion (rows true {'/'.join(LABELS)}) {r['confusion']}"
            )
    out["majority_crypto_test"] = round(float((test.label == test.label.mode()[0]).mean()), 4)
    import torch

    load = os.getloadavg()[0]
    out["cpu_note"] = (
        f"{os.cpu_count()} cores, torch threads {torch.get_num_threads()}, load average {load:.1f} at the end"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
