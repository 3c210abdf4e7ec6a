"""How the matches in the database cover the shipped labels: the check behind ``oneprice align run``.

For every labeled pair whose two markets are both in the database, was it proposed as hedgeable (with
the labeled outcome map)? Prints the counts and the misses, then one JSON line.

    .venv/bin/python scripts/label_coverage.py [--db-url URL]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import aliased

from oneprice.alignment.labels import read_pairs
from oneprice.alignment.relations import HEDGEABLE, outcome_map
from oneprice.db.engine import session_scope
from oneprice.db.models import Market, Match
from oneprice.services.container import build_services


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db-url", default=None)
    args = ap.parse_args()
    pairs, _ = read_pairs()
    ma, mb = aliased(Market), aliased(Market)
    svc = build_services(**({"db_url": args.db_url} if args.db_url else {}))
    with session_scope(svc.engine) as s:
        status = {(m.venue, m.external_id): m.status for m in s.scalars(select(Market))}
        rows = s.execute(
            select(Match, ma, mb).join(ma, Match.market_a_id == ma.id).join(mb, Match.market_b_id == mb.id)
        )
        found: dict[frozenset[tuple[str, str]], tuple[str, str, str]] = {}
        for m, a, b in rows:
            found[frozenset({(a.venue, a.external_id), (b.venue, b.external_id)})] = (
                m.relation,
                a.venue,
                b.venue,
            )
    counts: Counter[str] = Counter()
    misses = []
    for p in pairs:
        ka, kb = (p.a.venue, p.a.market_id), (p.b.venue, p.b.market_id)
        if ka not in status or kb not in status:
            continue
        if status[ka] != "open" or status[kb] != "open":
            counts["closed_in_snapshot"] += 1
            continue
        got = found.get(frozenset({ka, kb}))
        rel = got[0] if got else "none"
        hedged = rel in HEDGEABLE
        if p.relation in HEDGEABLE:
            counts["labeled_hedgeable"] += 1
            ok = hedged and outcome_map(rel) == outcome_map(p.relation)
            counts["labeled_hedgeable_proposed"] += ok
            if not ok:
                misses.append((p.relation, rel, p.a.question, p.b.question))
        else:
            counts["labeled_other"] += 1
            counts["labeled_other_proposed_hedgeable"] += hedged
            if hedged:
                misses.append((p.relation, rel, p.a.question, p.b.question))
    for truth, rel, qa, qb in misses:
        print(f"{truth} -> {rel}: {qa} | {qb}")
    print(json.dumps(dict(counts)))


if __name__ == "__main__":
    main()
