"""The product's central object: a match between two markets, and the complete sets it allows.

``outcome_map = {"Yes": X, "No": Y}``: X is the outcome of B that pays exactly when A resolves Yes.
A complete set pays at least $1 in every state the relation allows:
- equivalent / inverse: A:a + B:outcome_map[other(a)] for a in Yes, No (kind "equivalence");
- A implies B: A:No + B:Yes (A true forces B true: 1; A false: A:No pays, B:Yes may too), "bound";
- B implies A: A:Yes + B:No, "bound";
- mutually exclusive: A:No + B:No (at most one is true, so at least one No pays), "bound".
The scanner, the deviations and the convergence backtest all price these sets, from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

EQUIVALENCE = ("equivalent", "inverse")
BOUNDS = {"a_implies_b": ("No", "Yes"), "b_implies_a": ("Yes", "No"), "mutually_exclusive": ("No", "No")}
HEDGEABLE = frozenset(EQUIVALENCE)


class ReviewStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


def other(outcome: str) -> str:
    """The complement of a binary outcome."""
    return "No" if outcome.lower() == "yes" else "Yes"


def complete_sets(relation: str, outcome_map: Mapping[str, str] | None) -> list[tuple[str, str, str]]:
    """(outcome of A, outcome of B, kind) for every complete set the relation allows."""
    if relation in EQUIVALENCE:
        m = dict(outcome_map or {})
        if "Yes" not in m or "No" not in m:  # fall back to the relation's own map
            m = {"Yes": "Yes", "No": "No"} if relation == "equivalent" else {"Yes": "No", "No": "Yes"}
        return [(a, m[other(a)], "equivalence") for a in ("Yes", "No")]
    if relation in BOUNDS:
        a, b = BOUNDS[relation]
        return [(a, b, "bound")]
    return []


@dataclass(frozen=True)
class Match:
    """Two markets (database ids) and how they relate, with the review state of that claim."""

    id: int
    market_a_id: int
    market_b_id: int
    relation: str
    outcome_map: Mapping[str, str] = field(default_factory=dict)
    confidence: float = 0.0
    status: ReviewStatus = ReviewStatus.PROPOSED

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome_map", MappingProxyType(dict(self.outcome_map or {})))
        object.__setattr__(self, "status", ReviewStatus(self.status))

    @property
    def hedgeable(self) -> bool:
        return self.relation in HEDGEABLE

    def complete_sets(self) -> list[tuple[str, str, str]]:
        return complete_sets(self.relation, self.outcome_map)
