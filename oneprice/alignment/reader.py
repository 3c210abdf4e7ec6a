"""The rules reader: how far each clause of one market's question and rules is said by the other's.

Each market is read as its question plus the first sentences of its rules ("clauses"), each embedded
by the sentence model (cached by text hash and model id, so boilerplate shared across a series is
encoded once). For a pair (A, B) every clause of A is matched to its closest clause of B: the least
supported clause of A ("... or he resigns", "as reported by NOAA's Central Park station", "on or before
March 31") is where two look-alikes part, whatever words they use, so the minimum and the mean of
those best matches, in both directions, and the cosine of the two whole readings are features of the
pair. Nothing here names a market, a person or a venue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from oneprice.alignment.embed import Embedder

READER_VERSION = "clauses-1"
MAX_CLAUSES = 6  # rules sentences read per market, after the question
MAX_CHARS = 300  # per clause
MIN_CHARS = 12  # shorter fragments ("e.g.", a URL tail) say nothing
_SPLIT = re.compile(r"(?<=[.;!?])\s+(?=[A-Z(\"'])|\n+")

# Directional features of (A, B), mirrored for (B, A).
READER_FEATURES = (
    "read_doc_cos",  # the two whole readings (mean clause vectors)
    "read_min_ab",  # A's least supported clause, best match in B
    "read_min_ba",
    "read_mean_ab",  # A's clauses, mean best match in B
    "read_mean_ba",
    "read_q_ab",  # A's question against B's closest clause
    "read_q_ba",
    "read_n_a",  # clauses read (1 = a question with no rules)
    "read_n_b",
)


def clauses(question: str, rules: str) -> list[str]:
    """The question, then up to ``MAX_CLAUSES`` sentences of the rules."""
    parts = [s.strip()[:MAX_CHARS] for s in _SPLIT.split(rules[:4000]) if len(s.strip()) >= MIN_CHARS]
    return [question.strip()[:MAX_CHARS], *parts[:MAX_CLAUSES]]


def read(texts: Sequence[tuple[str, str]], embedder: Embedder) -> list[np.ndarray]:
    """One matrix of clause vectors per (question, rules), the question's first."""
    per = [clauses(q, r) for q, r in texts]
    flat = [c for cs in per for c in cs]
    vecs = embedder.encode(flat) if flat else np.zeros((0, 0), dtype=np.float32)
    out, k = [], 0
    for cs in per:
        out.append(vecs[k : k + len(cs)])
        k += len(cs)
    return out


def pair_reading(a: np.ndarray, b: np.ndarray) -> list[float]:
    """The reader's features of (A, B) from the two clause matrices, in ``READER_FEATURES`` order."""
    sim = a @ b.T
    best_ab, best_ba = sim.max(axis=1), sim.max(axis=0)
    da, db = a.mean(axis=0), b.mean(axis=0)
    doc = float(da @ db / (np.linalg.norm(da) * np.linalg.norm(db) + 1e-9))
    return [
        doc,
        float(best_ab.min()),
        float(best_ba.min()),
        float(best_ab.mean()),
        float(best_ba.mean()),
        float(best_ab[0]),
        float(best_ba[0]),
        float(len(a)),
        float(len(b)),
    ]
