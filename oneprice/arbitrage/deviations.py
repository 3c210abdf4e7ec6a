"""Deviation history per matched pair and a summary in the spirit of Gebele & Matthes (2025).

Each scan stores, per priced pair, the mid-price gap (the violation of the pair's no-arbitrage
relation at mid prices: |gap| for equivalence, P(A) - P(B) for A implies B, P(A) + P(B) - 1 for
exclusive pairs) and the executable edge at the target size after walking both books and fees.
A pair's deviation is *persistent* when its mid gap exceeds ``gap`` in at least ``share`` of at
least two observations. The mean mid deviation counts a respected bound as 0; the execution-aware
deviation is the executable edge per contract at the target size (negative when costs exceed the gap).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from statistics import fmean
from typing import Any

from sqlalchemy import Engine, select

from oneprice.db import session_scope
from oneprice.db.models_arbitrage import ArbDeviation


def history(engine: Engine, match_id: int) -> list[dict[str, Any]]:
    with session_scope(engine) as s:
        rows = s.scalars(
            select(ArbDeviation)
            .where(ArbDeviation.match_id == match_id)
            .order_by(ArbDeviation.ts, ArbDeviation.id)
        ).all()
        return [
            {
                "ts": r.ts,
                "scan_run_id": r.scan_run_id,
                "mid_gap": r.mid_gap,
                "executable_edge": r.executable_edge,
                "edge_size": r.edge_size,
                "venue_pair": r.venue_pair,
                "category": r.category,
            }
            for r in rows
        ]


def _f(x: Decimal | None) -> float | None:
    return None if x is None else float(x)


def _group(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    gaps = [g for p in pairs for g in p["gaps"]]
    edges = [e for p in pairs for e in p["edges"]]
    return {
        "pairs": len(pairs),
        "observations": sum(p["n"] for p in pairs),
        "persistent_pairs": sum(p["persistent"] for p in pairs),
        "share_persistent": round(sum(p["persistent"] for p in pairs) / len(pairs), 4) if pairs else 0.0,
        "mean_mid_gap": round(fmean(max(g, 0.0) for g in gaps), 6) if gaps else None,
        "mean_exec_deviation": round(fmean(edges), 6) if edges else None,
        "share_positive_exec": round(sum(e > 0 for e in edges) / len(edges), 4) if edges else None,
    }


def summary(engine: Engine, gap: float = 0.02, share: float = 0.5) -> dict[str, Any]:
    """Share of pairs with persistent deviations and mean execution-aware deviation, overall and by
    venue pair and category."""
    per: dict[int, dict[str, Any]] = {}
    with session_scope(engine) as s:
        for r in s.execute(
            select(
                ArbDeviation.match_id,
                ArbDeviation.venue_pair,
                ArbDeviation.category,
                ArbDeviation.mid_gap,
                ArbDeviation.executable_edge,
            )
        ):
            p = per.setdefault(
                r.match_id,
                {"venue_pair": r.venue_pair, "category": r.category, "n": 0, "gaps": [], "edges": []},
            )
            p["n"] += 1
            if r.mid_gap is not None:
                p["gaps"].append(float(r.mid_gap))
            if r.executable_edge is not None:
                p["edges"].append(float(r.executable_edge))
    for p in per.values():
        above = sum(g > gap for g in p["gaps"])
        p["persistent"] = len(p["gaps"]) >= 2 and above / len(p["gaps"]) >= share
    by_venue: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_cat: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in per.values():
        by_venue[p["venue_pair"]].append(p)
        by_cat[p["category"] or "uncategorized"].append(p)
    return {
        "gap_threshold": gap,
        "persist_share": share,
        "overall": _group(list(per.values())),
        "by_venue_pair": {k: _group(v) for k, v in sorted(by_venue.items())},
        "by_category": {k: _group(v) for k, v in sorted(by_cat.items())},
    }
