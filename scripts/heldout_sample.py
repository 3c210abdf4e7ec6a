"""Print pairs for a human read against both rules texts: a seeded random sample of the database's
hedgeable proposals outside the labels (``--sample N``), or the latest scan's opportunities
(``--opportunities``). Each pair shows both questions, rules, close dates, P(same) and safety flags;
the reader writes a verdict (safe / unsafe / unclear) beside each number.

    ONEPRICE_DATA_DIR=... .venv/bin/python scripts/heldout_sample.py --sample 60 [--seed 14]
    ONEPRICE_DATA_DIR=... .venv/bin/python scripts/heldout_sample.py --opportunities
"""

from __future__ import annotations

import argparse
import random

from oneprice.alignment.labels import read_pairs
from oneprice.services import alignment, arbitrage
from oneprice.services.alignment import MatchMarket
from oneprice.services.container import build_services


def _show(k: int, head: str, a: MatchMarket, b: MatchMarket, rules: int) -> None:
    print(f"\n[{k}] {head}")
    for side, m in (("A", a), ("B", b)):
        text = " ".join(str(m.rules or "").split())
        print(f"  {side} {m.venue}:{m.external_id} close {m.close_time}\n    Q: {m.question}")
        print(f"    R: {text[:rules]}{'...' if len(text) > rules else ''}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=0)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--opportunities", action="store_true")
    ap.add_argument("--rules-chars", type=int, default=700)
    args = ap.parse_args()
    svc = build_services()
    if args.sample:
        labeled, _ = read_pairs(None)
        keys = {frozenset({(p.a.venue, p.a.market_id), (p.b.venue, p.b.market_id)}) for p in labeled}
        rows = alignment.list_matches(
            svc, status="proposed", relations=["equivalent", "inverse"], limit=100000
        )
        outside = [
            r for r in rows
            if frozenset({(r.market_a.venue, r.market_a.external_id),
                          (r.market_b.venue, r.market_b.external_id)}) not in keys
        ]  # fmt: skip
        pick = random.Random(args.seed).sample(outside, min(args.sample, len(outside)))
        print(f"{len(rows)} hedgeable proposals, {len(outside)} outside the labels; {len(pick)} sampled")
        for k, r in enumerate(pick, 1):
            head = f"match {r.id} {r.relation} P(same) {r.confidence:.3f}"
            _show(k, head, r.market_a, r.market_b, args.rules_chars)
    if args.opportunities:
        opps = [o for o in arbitrage.latest_opportunities(svc) if o.is_opportunity]
        by_id = {r.id: r for r in alignment.list_matches(svc, limit=100000)}
        print(f"{len(opps)} opportunities in the latest scan")
        for k, o in enumerate(opps, 1):
            r = by_id[o.match_id]
            head = (f"match {o.match_id} {o.relation} edge {o.edge:.4f} conf {o.confidence:.3f} "
                    f"flags {','.join(o.flags) or 'clean'}")  # fmt: skip
            _show(k, head, r.market_a, r.market_b, args.rules_chars)


if __name__ == "__main__":
    main()
