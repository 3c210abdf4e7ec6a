"""Score the alignment model on several seeded held-out splits, each never trained on.

For each seed, ``heldout_split.write_split`` writes an event-grouped third of the shipped labels, and
``services.alignment.evaluate`` trains on the rest (dropping every pair that shares a market or event
with the split) and scores the split next to the two baselines. Prints one line per seed, then one
JSON object with every seed's figures and how many meet the issue's bars (precision >= 0.95, recall
>= 0.85, F1 at least 0.15 above the better baseline).

    .venv/bin/python scripts/heldout_eval.py [--seeds 1,2,3,4,5,7,11,13]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from heldout_split import write_split

from oneprice.log import setup_logging
from oneprice.services import alignment
from oneprice.services.container import build_services
from oneprice.services.results import to_json


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3,4,5,7,11,13")
    args = ap.parse_args()
    setup_logging("WARNING")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in [int(s) for s in args.seeds.split(",")]:
            path = Path(tmp) / f"heldout-{seed}.csv"
            write_split(path, seed)
            out = alignment.evaluate(build_services(), labels=path)
            m = out.model.hedgeable
            base = max(out.baselines[k].hedgeable.f1 for k in ("fuzzy", "cosine"))
            ok = m.precision >= 0.95 and m.recall >= 0.85 and m.f1 - base >= 0.15
            rows.append({"seed": seed, **to_json(m), "best_baseline_f1": base, "meets_all": ok})
            print(
                f"seed {seed:>3}: precision {m.precision:.3f} recall {m.recall:.3f} f1 {m.f1:.3f}"
                f"  best baseline f1 {base:.3f}  {'meets all' if ok else ''}",
                flush=True,
            )
    summary = {
        "splits": rows,
        "meets_all": sum(r["meets_all"] for r in rows),
        "precision_at_least_0.95": sum(r["precision"] >= 0.95 for r in rows),
        "recall_at_least_0.85": sum(r["recall"] >= 0.85 for r in rows),
        "f1_margin_at_least_0.15": sum(r["f1"] - r["best_baseline_f1"] >= 0.15 for r in rows),
        "n": len(rows),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
