"""Draft-model proposer: a small model q of the same tokenizer drafts a chain for the target p.

Drafting stops early, SpecDec++-style, once the draft's confidence in its next token drops below
``stop_below`` (a cheap stand-in for a predicted rejection), so the verify step does not pay for
tokens that are likely to be rejected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import torch

from oneprice.models.llm import kv
from oneprice.models.llm.proposers import Proposer, register_proposer
from oneprice.models.llm.sampling import probs, sample
from oneprice.models.llm.verify import Draft

if TYPE_CHECKING:
    from oneprice.models.llm.engine import Engine, Request


@register_proposer("draft")
class DraftModel(Proposer):
    needs_draft_model: ClassVar[bool] = True
    stop_below = 0.4

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        assert engine.draft is not None
        self.q_model: Any = engine.draft.model

    def start(self, req: Request) -> None:
        req.state["draft"] = {"cache": kv.new_cache(), "tokens": []}

    def _logits(self, st: dict[str, Any], new: list[int]) -> torch.Tensor:
        ids = torch.tensor([new], dtype=torch.long, device=self.q_model.device)
        logits = kv.forward(self.q_model, ids, st["cache"], logits_to_keep=1)
        st["tokens"].extend(new)
        return logits[0, -1]

    def propose(self, req: Request, k: int) -> Draft:
        st = req.state["draft"]
        done: list[int] = st["tokens"]
        ctx = req.tokens
        common = 0
        limit = min(len(done), len(ctx) - 1)
        while common < limit and done[common] == ctx[common]:
            common += 1
        kv.truncate(st["cache"], common)
        del done[common:]
        logits = self._logits(st, ctx[common:])
        tokens: list[int] = []
        qs: list[torch.Tensor] = []
        params = req.params
        grammar = req.constraint.fork() if req.constraint is not None else None
        while len(tokens) < k:
            if grammar is not None:  # draft inside the grammar too: q proposes only legal tokens
                logits = grammar.mask_logits(logits)
            if params.greedy:
                x = int(logits.argmax())
                conf = float(torch.softmax(logits.float(), -1)[x])
            else:
                q = probs(logits, params.temperature, params.top_p)
                x = sample(q, req.gen)
                conf = float(q[x])
                qs.append(q)
            tokens.append(x)
            if grammar is not None:
                grammar.advance(x)
                if grammar.done:
                    break
            if len(tokens) >= k or (conf < self.stop_below and tokens):
                break
            logits = self._logits(st, [x])
        q_all = torch.stack(qs) if qs else None
        return Draft(tokens, list(range(-1, len(tokens) - 1)), q_all)

    def finish(self, req: Request) -> None:
        req.state.pop("draft", None)
