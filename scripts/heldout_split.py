"""Write a grouped held-out share of the shipped labels, for ``oneprice align eval --labels FILE``.

Groups are connected components over Kalshi events and markets (``labels.with_groups``), so no event
straddles the split; ``oneprice align eval --labels`` then also drops every training pair that shares a
market or event with the file. The split is seeded and reproducible.

    .venv/bin/python scripts/heldout_split.py --out /tmp/heldout.csv [--fraction 0.33] [--seed 7]
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


def write_split(out: Path, seed: int = 7, fraction: float = 1 / 3) -> str:
    """Write the held-out share for ``seed`` to ``out``; a line saying what was written."""
    pairs, _ = read_pairs()
    groups = sorted({p.group or p.key for p in pairs})
    random.Random(seed).shuffle(groups)
    held: set[str] = set()
    n_held = 0
    for g in groups:
        if n_held >= fraction * len(pairs):
            break
        held.add(g)
        n_held += sum(1 for p in pairs if (p.group or p.key) == g)
    keys = {p.key for p in pairs if (p.group or p.key) in held}
    raw = resources.files("oneprice.alignment").joinpath("data/labels.csv.gz").read_bytes()
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))
    kept = [r for r in rows if r["pair_key"] in keys]
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(kept)
    return f"wrote {len(kept)} of {len(rows)} labeled pairs ({len(held)} groups) to {out}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--fraction", type=float, default=1 / 3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(write_split(args.out, args.seed, args.fraction))


if __name__ == "__main__":
    main()
