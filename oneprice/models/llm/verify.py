"""Verifiers: decide which drafted tokens the target p accepts, and the token that follows.

Signature (fixed): ``verifier(draft, p_logits, params, gen, constraint) -> Verdict`` where
``p_logits[i]`` are the target's logits after input position i (position 0 is the pending,
already-committed token; position i + 1 is draft node i) and ``draft.q`` holds the draft's
distributions when it has them. With a grammar ``constraint`` the verifier masks each position's
logits in the grammar state reached along the accepted path and commits every token it emits to the
constraint: a drafted token the grammar forbids can never equal the masked choice, so it is rejected,
and the output is exactly constrained plain decoding's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from oneprice.models.llm.sampling import SamplingParams, probs, sample, uniform

if TYPE_CHECKING:
    from oneprice.models.llm.grammar import Constraint


@dataclass
class Draft:
    tokens: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)  # index into tokens; -1: child of the pending token
    q: torch.Tensor | None = None  # [k, V] draft distributions (chains from a draft model only)

    def __len__(self) -> int:
        return len(self.tokens)

    def children(self, node: int) -> list[int]:
        return [i for i, p in enumerate(self.parents) if p == node]

    @property
    def depth(self) -> int:
        d: list[int] = []
        for p in self.parents:
            d.append(1 if p < 0 else d[p] + 1)
        return max(d, default=0)


@dataclass
class Verdict:
    accepted: list[int]  # draft node indices on the accepted path, root to leaf
    next_token: int  # the target's own token after the accepted path (bonus or correction)


Verifier = Callable[
    [Draft, torch.Tensor, SamplingParams, "torch.Generator | None", "Constraint | None"], Verdict
]


def greedy_verify(
    draft: Draft,
    p_logits: torch.Tensor,
    params: SamplingParams,
    gen: torch.Generator | None,
    constraint: Constraint | None = None,
) -> Verdict:
    """Longest prefix (tree path) where each drafted token is the target's (masked) argmax."""
    best = p_logits.argmax(dim=-1).tolist() if constraint is None else []
    node, path = -1, list[int]()
    while True:
        if constraint is None:
            want = best[node + 1]
        else:
            want = int(constraint.mask_logits(p_logits[node + 1]).argmax())
            constraint.advance(want)
        nxt = next((c for c in draft.children(node) if draft.tokens[c] == want), None)
        if nxt is None:
            return Verdict(path, want)
        path.append(nxt)
        node = nxt


def rejection_verify(
    draft: Draft,
    p_logits: torch.Tensor,
    params: SamplingParams,
    gen: torch.Generator | None,
    constraint: Constraint | None = None,
) -> Verdict:
    """Speculative sampling that leaves the output distributed exactly as sampling from p.

    With q (a draft model's chain): accept x_i with probability min(1, p(x_i)/q(x_i)), else sample
    from norm(max(0, p - q)). Without q (draft-free proposers): sample x ~ p at each node and follow the
    child drafted with that token, if any.
    """
    p_all = probs(p_logits, params.temperature, params.top_p) if constraint is None else None

    def p_at(i: int) -> torch.Tensor:  # p at input position i, masked in the current grammar state
        if p_all is not None:
            return p_all[i]
        assert constraint is not None
        return probs(constraint.mask_logits(p_logits[i]), params.temperature, params.top_p)

    def emit(path: list[int], x: int) -> Verdict:
        if constraint is not None:
            constraint.advance(x)
        return Verdict(path, x)

    node, path = -1, list[int]()
    if draft.q is None:
        while True:
            x = sample(p_at(node + 1), gen)
            nxt = next((c for c in draft.children(node) if draft.tokens[c] == x), None)
            if nxt is None:
                return emit(path, x)
            if constraint is not None:
                constraint.advance(x)
            path.append(nxt)
            node = nxt
    for i, x in enumerate(draft.tokens):  # a chain: parents == [-1, 0, 1, ...]
        p, q = p_at(i), draft.q[i]
        u = uniform(gen, p.device)
        if q[x] > 0 and u < min(1.0, float(p[x] / q[x])):
            if constraint is not None:
                constraint.advance(x)
            path.append(i)
            continue
        residual = torch.clamp(p - q, min=0.0)
        total = residual.sum()
        return emit(path, sample(residual / total if total > 0 else p, gen))
    return emit(path, sample(p_at(len(draft.tokens)), gen))


def verifier_for(params: SamplingParams) -> Verifier:
    return greedy_verify if params.greedy else rejection_verify
