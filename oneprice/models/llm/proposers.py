"""Proposers: guess the next tokens cheaply, as a chain or a tree, for the target p to verify.

Signature (fixed): ``propose(req, k) -> Draft`` with at most k nodes, ``observe(req, inputs, p_logits,
verdict)`` after each step (plain steps too), ``cost(k)`` the seconds proposing k tokens costs (the
engine measures it around every ``propose`` call).
Add a strategy by subclassing ``Proposer`` and decorating it with ``@register_proposer("name")``.
"""

from __future__ import annotations

import heapq
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch

from oneprice.models.llm.controller import Ema
from oneprice.models.llm.verify import Draft, Verdict

if TYPE_CHECKING:
    from oneprice.models.llm.engine import Engine, Request

PROPOSERS: dict[str, type[Proposer]] = {}


def register_proposer(name: str) -> Callable[[type[Proposer]], type[Proposer]]:
    def deco(cls: type[Proposer]) -> type[Proposer]:
        cls.name = name
        PROPOSERS[name] = cls
        return cls

    return deco


class Proposer(ABC):
    name: ClassVar[str] = ""
    needs_draft_model: ClassVar[bool] = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.prior = 0.0  # seconds per drafted token before any measurement (a calibrated guess)
        self.per_token = Ema(0.2)  # measured seconds per drafted token, updated by the engine

    def start(self, req: Request) -> None:
        """Called once per request before the first step."""
        return None

    @abstractmethod
    def propose(self, req: Request, k: int) -> Draft: ...

    def observe(self, req: Request, inputs: list[int], p_logits: torch.Tensor, verdict: Verdict) -> None:
        """Called after every step (plain steps too) with the target's logits for each input position."""
        return None

    def cost(self, k: int) -> float:
        """Seconds proposing k tokens costs: measured online (a draft model's forwards included)."""
        per = self.per_token.value
        return (self.prior if per is None else per) * k

    def finish(self, req: Request) -> None:
        """Called once when the request ends."""
        return None


@register_proposer("prompt_lookup")
class PromptLookup(Proposer):
    """n-gram prompt lookup: continue the earliest longest match of the context's suffix."""

    max_ngram = 8
    min_ngram = 1

    def propose(self, req: Request, k: int) -> Draft:
        toks = np.asarray(req.tokens, dtype=np.int64)
        n = len(toks)
        if n < 2 or k <= 0:
            return Draft()
        cands = np.nonzero(toks[: n - 1] == toks[-1])[0]
        if cands.size == 0:
            return Draft()
        length = np.ones(cands.size, dtype=np.int64)
        alive = np.ones(cands.size, dtype=bool)
        for j in range(1, self.max_ngram):
            pos = cands - j
            ok = alive & (pos >= 0)
            ok[ok] = toks[pos[ok]] == toks[n - 1 - j]
            length += ok
            alive = ok
            if not alive.any():
                break
        best = int(length.max())
        if best < self.min_ngram:
            return Draft()
        # the earliest longest match: agents restate their prompt, and the prompt comes first; a later
        # match sits in the output's own repeated template (JSON keys), whose next value differs
        start = int(cands[np.nonzero(length == best)[0][0]]) + 1
        cont = toks[start : min(start + k, n)].tolist()
        return Draft(cont, list(range(-1, len(cont) - 1)))


def tree_template(
    size: int, rank_probs: tuple[float, ...] = (0.6, 0.15, 0.08, 0.05, 0.03, 0.02)
) -> list[tuple[int, int]]:
    """The ``size`` most likely nodes as (parent, rank) pairs, parents first (a static tree template)."""
    out: list[tuple[int, int]] = []
    heap: list[tuple[float, int, int]] = [(-rank_probs[r], -1, r) for r in range(len(rank_probs))]
    heapq.heapify(heap)
    while heap and len(out) < size:
        neg, parent, rank = heapq.heappop(heap)
        out.append((parent, rank))
        me = len(out) - 1
        for r in range(len(rank_probs)):
            heapq.heappush(heap, (neg * rank_probs[r], me, r))
    return out


@register_proposer("token_recycling")
class TokenRecycling(Proposer):
    """Token Recycling: an adjacency matrix of each token's top-k successors seen in verify steps,
    expanded along a static tree template and verified in one forward with tree attention."""

    top_k = 6
    template_size = 64

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        vocab = int(engine.vocab_size)
        self.adj = torch.full((vocab, self.top_k), -1, dtype=torch.long)
        self.template = tree_template(self.template_size, tuple(0.6 * 0.3**r for r in range(self.top_k)))

    def propose(self, req: Request, k: int) -> Draft:
        tokens: list[int] = []
        parents: list[int] = []
        index: dict[int, int] = {-1: -1}  # template node -> draft node (dropped nodes absent)
        root = req.tokens[-1]
        for t_i, (t_parent, rank) in enumerate(self.template):
            if len(tokens) >= k:
                break
            if t_parent not in index:
                continue
            parent = index[t_parent]
            prev = root if parent < 0 else tokens[parent]
            tok = int(self.adj[prev, rank])
            if tok < 0:
                continue
            index[t_i] = len(tokens)
            tokens.append(tok)
            parents.append(parent)
        return Draft(tokens, parents)

    def observe(self, req: Request, inputs: list[int], p_logits: torch.Tensor, verdict: Verdict) -> None:
        top = torch.topk(p_logits.float(), self.top_k, dim=-1).indices.cpu()
        self.adj[torch.tensor(inputs, dtype=torch.long)] = top


def make_proposers(engine: Engine) -> dict[str, Proposer]:
    import oneprice.models.llm.draft  # noqa: F401  (registers "draft")

    out: dict[str, Proposer] = {}
    for name, cls in PROPOSERS.items():
        if cls.needs_draft_model and engine.draft is None:
            continue
        out[name] = cls(engine)
    return out


def available() -> list[str]:
    import oneprice.models.llm.draft  # noqa: F401

    return sorted(PROPOSERS)
