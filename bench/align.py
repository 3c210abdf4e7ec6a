"""Alignment speed: candidate generation + verification vs brute-force all-pairs scoring.

Aligns the same-day Kalshi x Polymarket listings (2025-02-11, about 6,500 x 3,400) at 1x, 2x and 4x
their size. Synthetic copies (factor > 1) repeat each market under a new id with its question vector
jittered slightly, so the ANN index holds distinct points; their texts hit the embedding cache, so
scale runs time the steady state (cached embeddings), and the 1x run also reports the cold embedding
time. Brute force verifies every cross-venue pair with the same classifier; at these sizes (22M+
pairs) it is timed on a random sample of pairs and scaled to all pairs, and the exact all-pairs
cosine matrix is timed in full. The rules reader's cost (``alignment/reader.py``: every market's
question and rules sentences embedded) is timed on 1,000 listed markets against a fresh cache, cold
and again cached, with the cache hit rate of the second pass. The last line is one JSON object.

    python bench/align.py [--source DIR_WITH_LISTING_JSON] [--sample 20000] [--factors 1,2,4]
    python bench/align.py --reader-only [--reader-markets 1000]   # just the reader's cost
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from oneprice.alignment import candidates
from oneprice.alignment.embed import Embedder
from oneprice.alignment.labels import event_of
from oneprice.alignment.reader import clauses, read
from oneprice.alignment.scoring import Prepared, score_pairs, train_model
from oneprice.core.types import Market, utc
from oneprice.services import alignment as svc
from oneprice.services.container import build_services


def _when(raw: str | None) -> Any:
    from datetime import datetime

    return utc(datetime.fromisoformat(raw.replace("Z", "+00:00"))) if raw else None


def load_listings(source: Path | None) -> list[Market]:
    """The same-day listings: from ``source`` (the two normalized JSON files) or the bundled snapshot."""
    out: list[Market] = []
    if source is not None:
        for name in (
            "kalshi_markets_normalized_2025-02-11.json",
            "polymarket_markets_normalized_2025-02-11.json",
        ):
            for d in json.loads((source / name).read_text()):
                v = d["platform"].lower()
                out.append(
                    Market(
                        v,
                        d["id"],
                        d["question"],
                        rules=d.get("description") or "",
                        close_time=_when(d.get("end_date")),
                        event_id=event_of(v, d["id"]),
                    )
                )
        return out
    raw = resources.files("oneprice.ingest").joinpath("snapshot/markets.jsonl.gz").read_bytes()
    for line in gzip.decompress(raw).decode().splitlines():
        d = json.loads(line)
        if d.get("listing") == "2025-02-11":
            out.append(
                Market(
                    d["venue"],
                    d["id"],
                    d["question"],
                    rules=d.get("rules") or "",
                    close_time=_when(d.get("close_time")),
                    event_id=d.get("event_id"),
                )
            )
    return out


def scaled(prep: Prepared, markets: list[Market], factor: int, rng: np.random.Generator) -> tuple[Any, ...]:
    """Kalshi and Polymarket sides (positions, vectors, contracts) repeated ``factor`` times."""
    sides = []
    for venue in ("kalshi", "polymarket"):
        pos = [prep.pos(m) for m in markets if m.venue == venue]
        vecs, cons = [prep.vectors[pos]], [prep.contracts[i] for i in pos]
        for _ in range(factor - 1):
            v = prep.vectors[pos] + rng.normal(0, 0.02, size=prep.vectors[pos].shape).astype(np.float32)
            vecs.append(v / np.linalg.norm(v, axis=1, keepdims=True))
        sides.append((pos * factor, np.vstack(vecs), cons * factor))
    return tuple(sides)


def align_once(model: Any, prep: Prepared, markets: list[Market], factor: int) -> dict[str, float]:
    rng = np.random.default_rng(factor)
    t = time.perf_counter()
    (pa, va, ca), (pb, vb, cb) = scaled(prep, markets, factor, rng)
    t_cand = time.perf_counter()
    cands = candidates.generate(va, vb, ca, cb)
    t_ver = time.perf_counter()
    keyed = [prep.keys[i] for i in range(len(prep.keys))]
    by_key = {(m.venue, m.market_id): m for m in markets}
    pairs = [(by_key[keyed[pa[i]]], by_key[keyed[pb[j]]]) for i, j, _ in cands]
    scored = score_pairs(model, prep, pairs)
    end = time.perf_counter()
    return {
        "setup": t_cand - t,
        "candidates": t_ver - t_cand,
        "verify": end - t_ver,
        "n_candidates": float(len(cands)),
        "n_hedgeable": float(sum(s.relation in ("equivalent", "inverse") for s in scored)),
        "n_a": float(len(va)),
        "n_b": float(len(vb)),
    }


def reader_cost(markets: list[Market], n: int = 1000) -> dict[str, float]:
    """Seconds per 1,000 markets for the rules reader, cold (fresh cache) and cached, and the cache
    hit rate of the second pass (cached clause texts over all clause texts read)."""
    pick = random.Random(14).sample(markets, min(n, len(markets)))
    texts = [(m.question, m.rules) for m in pick]
    with tempfile.TemporaryDirectory() as tmp:
        emb = Embedder(cache_dir=Path(tmp) / "cache")
        emb._load()  # model load is not the reader's per-market cost
        t = time.perf_counter()
        read(texts, emb)
        cold_s = time.perf_counter() - t
        hits0, computed0 = emb.hits, emb.computed
        t = time.perf_counter()
        read(texts, emb)
        cached_s = time.perf_counter() - t
        hits, computed = emb.hits - hits0, emb.computed - computed0
        emb.close()
    per = 1000 / len(pick)
    out = {
        "markets": len(pick),
        "clauses": sum(len(clauses(q, r)) for q, r in texts),
        "cold_s_per_1000": round(cold_s * per, 3),
        "cached_s_per_1000": round(cached_s * per, 3),
        "first_pass_hit_rate": round(hits0 / max(1, hits0 + computed0), 4),  # repeated boilerplate
        "second_pass_hit_rate": round(hits / max(1, hits + computed), 4),
    }
    print(
        f"reader: {out['clauses']} clauses of {len(pick)} markets; cold {out['cold_s_per_1000']}s, cached "
        f"{out['cached_s_per_1000']}s per 1,000 markets; second-pass hit rate {out['second_pass_hit_rate']}"
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", type=Path, default=None)
    ap.add_argument(
        "--sample", type=int, default=20000, help="pairs sampled to time brute-force verification"
    )
    ap.add_argument("--factors", default="1,2,4")
    ap.add_argument("--reader-only", action="store_true", help="time only the rules reader")
    ap.add_argument("--reader-markets", type=int, default=1000, help="markets the reader is timed on")
    args = ap.parse_args()
    markets = load_listings(args.source)
    print(
        f"listings: {sum(m.venue == 'kalshi' for m in markets)} kalshi, "
        f"{sum(m.venue == 'polymarket' for m in markets)} polymarket"
    )
    reader = reader_cost(markets, args.reader_markets)
    if args.reader_only:
        print(json.dumps({"reader": reader}))
        return
    stages: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cold = Embedder(cache_dir=Path(tmp) / "cache")
        t = time.perf_counter()
        labeled, _ = svc.training_pairs(build_services(), with_reviews=False)
        model = train_model(labeled, cold)
        stages["train"] = time.perf_counter() - t
        t = time.perf_counter()
        prep = Prepared(markets, cold)  # parse + cold embeddings of every listing question
        stages["parse_embed_cold"] = time.perf_counter() - t
        t = time.perf_counter()
        prep = Prepared(markets, cold)  # parse + cached embeddings (what a re-run pays)
        stages["parse_embed_cached"] = time.perf_counter() - t
        cold.close()
    runs = {}
    for f in (int(x) for x in args.factors.split(",")):
        r = align_once(model, prep, markets, f)
        total = r["setup"] + r["candidates"] + r["verify"] + stages["parse_embed_cached"] * f
        runs[f] = (r, total)
        print(
            f"{f}x: {int(r['n_a'])} x {int(r['n_b'])} markets, {int(r['n_candidates'])} candidates, "
            f"{int(r['n_hedgeable'])} hedgeable; candidates {r['candidates']:.2f}s verify {r['verify']:.2f}s "
            f"total {total:.2f}s (cached embeddings)"
        )
    r1, _ = runs[1]
    stages["candidates"] = r1["candidates"]
    stages["verify"] = r1["verify"]
    total_s = stages["parse_embed_cold"] + r1["setup"] + r1["candidates"] + r1["verify"]
    # brute force: every cross-venue pair through the same verifier (sampled), and the full cosine matrix
    ka = [m for m in markets if m.venue == "kalshi"]
    pb = [m for m in markets if m.venue == "polymarket"]
    rnd = random.Random(0)
    sample = [(rnd.choice(ka), rnd.choice(pb)) for _ in range(args.sample)]
    t = time.perf_counter()
    score_pairs(model, prep, sample)
    per_pair = (time.perf_counter() - t) / len(sample)
    t = time.perf_counter()
    va = prep.vectors[[prep.pos(m) for m in ka]]
    vb = prep.vectors[[prep.pos(m) for m in pb]]
    sims = va @ vb.T
    cosine_all_s = time.perf_counter() - t
    del sims
    n_all = len(ka) * len(pb)
    brute_force_s = stages["parse_embed_cold"] + cosine_all_s + per_pair * n_all
    scale = []
    for f, (r, total) in runs.items():
        bf = per_pair * n_all * f * f
        scale.append(
            {
                "factor": f,
                "total_s": round(total, 3),
                "candidates": int(r["n_candidates"]),
                "brute_force_s": round(bf, 1),
            }
        )
        print(f"{f}x: pipeline {total:.1f}s vs brute force {bf:.0f}s (ratio {bf / total:.0f}x)")
    print(
        f"1x end to end (cold embeddings): {total_s:.1f}s; brute force {brute_force_s:.0f}s "
        f"({per_pair * 1e6:.0f} us/pair over {n_all} pairs, timed on {len(sample)}); "
        f"ratio {brute_force_s / total_s:.0f}x"
    )
    out = {
        "total_s": round(total_s, 3),
        "brute_force_s": round(brute_force_s, 1),
        "brute_force_method": f"verifier on {len(sample)} sampled pairs scaled to {n_all}",
        "brute_force_cosine_matrix_s": round(cosine_all_s, 3),
        "speedup": round(brute_force_s / total_s, 1),
        "stages": {k: round(v, 3) for k, v in stages.items()},
        "scale": scale,
        "markets": {"kalshi": len(ka), "polymarket": len(pb)},
        "candidates_1x": int(r1["n_candidates"]),
        "reader": reader,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
