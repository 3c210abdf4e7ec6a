"""Candidate generation below all-pairs: an HNSW index over question embeddings plus blocking.

Each side queries the other's index for its ``k`` nearest questions; pairs under ``min_cos`` and
pairs whose facets rule a match out cheaply (blocking) are dropped before verification:
different explicit years, different named months, different categories, or close dates more than
``max_gap_days`` (six years) apart (Kalshi often sets a far "latest expiration", hence the wide default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from oneprice.alignment.contract import Contract


@dataclass(frozen=True)
class Blocking:
    years: bool = True
    months: bool = True
    category: bool = True
    max_gap_days: float = 6 * 365.0


def _knn(index_vecs: np.ndarray, query_vecs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Approximate k nearest neighbours by cosine (vectors are normalised): labels, similarities."""
    import hnswlib

    k = min(k, len(index_vecs))
    idx = hnswlib.Index(space="ip", dim=index_vecs.shape[1])
    idx.init_index(max_elements=len(index_vecs), ef_construction=200, M=16, random_seed=7)
    idx.set_num_threads(1)  # a parallel build inserts in a racy order: another graph, other neighbours
    idx.add_items(index_vecs, np.arange(len(index_vecs)))
    idx.set_num_threads(2)  # queries only read the graph
    idx.set_ef(max(64, 2 * k))
    labels, dist = idx.knn_query(query_vecs, k=k)
    return labels, 1.0 - dist


def blocked(a: Contract, b: Contract, rules: Blocking) -> bool:
    """True when facets alone show the pair cannot be related enough to verify."""
    if rules.years and a.years and b.years and not (a.years & b.years):
        return True
    if rules.months and a.months and b.months and not (a.months & b.months) and a.years == b.years:
        return True
    if rules.category and a.category and b.category and a.category != b.category:
        return True
    if rules.max_gap_days and a.close and b.close:
        return abs((a.close - b.close).total_seconds()) > rules.max_gap_days * 86400
    return False


def generate(
    vecs_a: np.ndarray,
    vecs_b: np.ndarray,
    contracts_a: Sequence[Contract],
    contracts_b: Sequence[Contract],
    k: int = 10,
    min_cos: float = 0.5,
    rules: Blocking | None = None,
) -> list[tuple[int, int, float]]:
    """Candidate (i in A, j in B, cosine) pairs, each once, best first (ties by index): the same input
    gives the same list, run after run."""
    if len(vecs_a) == 0 or len(vecs_b) == 0:
        return []
    rules = rules or Blocking()
    found: dict[tuple[int, int], float] = {}
    lab, sim = _knn(vecs_b, vecs_a, k)
    for i in range(len(vecs_a)):
        for j, s in zip(lab[i], sim[i], strict=True):
            found[(i, int(j))] = float(s)
    lab, sim = _knn(vecs_a, vecs_b, k)
    for j in range(len(vecs_b)):
        for i, s in zip(lab[j], sim[j], strict=True):
            found.setdefault((int(i), j), float(s))
    out = [
        (i, j, s)
        for (i, j), s in found.items()
        if s >= min_cos and not blocked(contracts_a[i], contracts_b[j], rules)
    ]
    out.sort(key=lambda t: (-t[2], t[0], t[1]))
    return out
