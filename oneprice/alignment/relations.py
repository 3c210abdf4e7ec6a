"""Relation names, the hedgeable subset, outcome maps and A/B swapping."""

from __future__ import annotations

EQUIVALENT = "equivalent"
INVERSE = "inverse"
A_IMPLIES_B = "a_implies_b"
B_IMPLIES_A = "b_implies_a"
EXCLUSIVE = "mutually_exclusive"
OVERLAPPING = "overlapping"
UNRELATED = "unrelated"

RELATIONS = (EQUIVALENT, INVERSE, A_IMPLIES_B, B_IMPLIES_A, EXCLUSIVE, OVERLAPPING, UNRELATED)
HEDGEABLE = frozenset({EQUIVALENT, INVERSE})
# Relations worth storing: hedgeable ones and those that bound prices (implication, exclusivity).
ACTIONABLE = frozenset({EQUIVALENT, INVERSE, A_IMPLIES_B, B_IMPLIES_A, EXCLUSIVE})

_SWAP = {A_IMPLIES_B: B_IMPLIES_A, B_IMPLIES_A: A_IMPLIES_B}


def swap(relation: str) -> str:
    """The relation of (B, A) given that of (A, B)."""
    return _SWAP.get(relation, relation)


def outcome_map(relation: str) -> dict[str, str]:
    """Which outcome of B pays exactly when A resolves Yes / No; empty when not hedgeable."""
    if relation == EQUIVALENT:
        return {"Yes": "Yes", "No": "No"}
    if relation == INVERSE:
        return {"Yes": "No", "No": "Yes"}
    return {}


def check(relation: str) -> str:
    if relation not in RELATIONS:
        raise ValueError(f"unknown relation {relation!r}; expected one of {', '.join(RELATIONS)}")
    return relation
