"""Seal a family-grouped share of the shipped labels: scored once at the end, never read pair by pair.

Groups are connected components over Kalshi events, event families (a series: every market of a
contest, a person's races, an index's months) and markets (``labels.with_groups``), so no family
straddles the seal. Writes ``sealed.csv`` (about a quarter of the pairs) and ``dev.csv`` (the rest) in
the shipped format; the split is seeded and reproducible. Develop on the rest:

    ONEPRICE_ALIGN_LABELS=DIR/dev.csv oneprice align eval --cv --json
and score the seal once, trained on the rest only:
    ONEPRICE_ALIGN_LABELS=DIR/dev.csv oneprice align eval --labels DIR/sealed.csv --json

    .venv/bin/python scripts/heldout_seal.py --out-dir /tmp/seal [--fraction 0.25] [--seed 14]
The script prints only counts, never a sealed pair.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import random
from importlib import resources
from pathlib import Path

from oneprice.alignment.labels import read_pairs


def seal(out_dir: Path, seed: int = 14, fraction: float = 0.25) -> str:
    pairs, _ = read_pairs()
    size: dict[str, int] = {}
    for p in pairs:
        size[p.group or p.key] = size.get(p.group or p.key, 0) + 1
    groups = sorted(size)
    random.Random(seed).shuffle(groups)
    held: set[str] = set()
    n_held = 0
    for g in groups:
        if n_held + size[g] > fraction * len(pairs) * 1.05:  # skip a family that would overshoot
            continue
        held.add(g)
        n_held += size[g]
        if n_held >= fraction * len(pairs):
            break
    keys = {p.key for p in pairs if (p.group or p.key) in held}
    raw = resources.files("oneprice.alignment").joinpath("data/labels.csv.gz").read_bytes()
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, part in (("sealed", [r for r in rows if r["pair_key"] in keys]),
                       ("dev", [r for r in rows if r["pair_key"] not in keys])):  # fmt: skip
        with (out_dir / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(part)
    fams = f"{len(held)} of {len(groups)} families"
    return f"sealed {len(keys)} of {len(rows)} labeled pairs ({fams}) in {out_dir}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--fraction", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    print(seal(args.out_dir, args.seed, args.fraction))


if __name__ == "__main__":
    main()
