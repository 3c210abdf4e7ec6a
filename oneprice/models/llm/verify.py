"""Verifiers: decide which drafted tokens the target p accepts, and the token that follows.

Signature (fixed): ``verifier(draft, p_logits, params, gen) -> Verdict`` where ``p_logits[i]`` are the
target's logits after input position i (position 0 is the pending, already-committed token; position
i + 1 is draft node i) and ``draft.q`` holds the draft's distributions when it has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from oneprice.models.llm.sampling import SamplingParams, probs, sample


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


Verifier = Callable[[Draft, torch.Tensor, SamplingParams, "torch.Generator | None"], Verdict]


def greedy_verify(
    draft: Draft, p_logits: torch.Tensor, params: SamplingParams, gen: torch.Generator | None
) -> Verdict:
    """Longest prefix (tree path) where each drafted token is the target's argmax."""
    best = p_logits.argmax(dim=-1).tolist()
    node, path = -1, list[int]()
    while True:
        want = best[node + 1]
        nxt = next((c for c in draft.children(node) if draft.tokens[c] == want), None)
        if nxt is None:
            return Verdict(path, want)
        path.append(nxt)
        node = nxt


def rejection_verify(
    draft: Draft, p_logits: torch.Tensor, params: SamplingParams, gen: torch.Generator | None
) -> Verdict:
    """Speculative sampling that leaves the output distributed exactly as sampling from p.

    With q (a draft model's chain): accept x_i with probability min(1, p(x_i)/q(x_i)), else sample
    from norm(max(0, p - q)). Without q (draft-free proposers): sample x ~ p at each node and follow the
    child drafted with that token, if any.
    """
    p_all = probs(p_logits, params.temperature, params.top_p)
    node, path = -1, list[int]()
    if draft.q is None:
        while True:
            x = sample(p_all[node + 1], gen)
            nxt = next((c for c in draft.children(node) if draft.tokens[c] == x), None)
            if nxt is None:
                return Verdict(path, x)
            path.append(nxt)
            node = nxt
    for i, x in enumerate(draft.tokens):  # a chain: parents == [-1, 0, 1, ...]
        p, q = p_all[i], draft.q[i]
        u = torch.rand(1, generator=gen).item()
        if q[x] > 0 and u < min(1.0, float(p[x] / q[x])):
            path.append(i)
            continue
        residual = torch.clamp(p - q, min=0.0)
        total = residual.sum()
        return Verdict(path, sample(residual / total if total > 0 else p, gen))
    return Verdict(path, sample(p_all[len(draft.tokens)], gen))


def verifier_for(params: SamplingParams) -> Verifier:
    return greedy_verify if params.greedy else rejection_verify
