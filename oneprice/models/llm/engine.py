"""The decode loop: prefill, then plain steps (k = 0) or speculative steps (propose, verify, roll back)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from oneprice.models.llm import kv
from oneprice.models.llm.controller import Controller, CostModel, RequestSpec
from oneprice.models.llm.loader import LoadedModel
from oneprice.models.llm.metrics import SpecMetrics
from oneprice.models.llm.packing import pack_linears
from oneprice.models.llm.proposers import Proposer, make_proposers
from oneprice.models.llm.sampling import SamplingParams, probs, sample
from oneprice.models.llm.text import StopChecker
from oneprice.models.llm.verify import Draft, Verdict, verifier_for

log = logging.getLogger(__name__)
_NO_VERDICT = Verdict([], -1)  # what observe() gets after a plain step


@dataclass
class Request:
    tokens: list[int]  # prompt + committed output; the last one is not yet in the KV cache
    params: SamplingParams
    gen: torch.Generator | None
    prompt_len: int
    spec: RequestSpec = field(default_factory=RequestSpec)
    metrics: SpecMetrics = field(default_factory=SpecMetrics)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def output(self) -> list[int]:
        return self.tokens[self.prompt_len :]


@dataclass
class Chunk:
    text: str  # new text since the previous chunk
    token_ids: list[int]
    finish_reason: str | None = None


@dataclass
class Completion:
    text: str
    token_ids: list[int]
    finish_reason: str
    prompt_tokens: int
    metrics: SpecMetrics
    seconds: float
    first_token_s: float = 0.0  # prefill + first token

    @property
    def tokens_per_s(self) -> float:
        return len(self.token_ids) / self.seconds if self.seconds > 0 else 0.0

    @property
    def decode_tokens_per_s(self) -> float:
        """Tokens after the first per second after the first: decoding speed without the prefill."""
        dt = self.seconds - self.first_token_s
        return (len(self.token_ids) - 1) / dt if dt > 0 and len(self.token_ids) > 1 else 0.0


class Engine:
    """One target model p, an optional draft model q, the proposers and the controller."""

    def __init__(
        self, target: LoadedModel, draft: LoadedModel | None = None, method: str = "auto", pack: bool = True
    ) -> None:
        """``pack``: pre-pack the linear layers of p and q for CPU decoding (in place; see ``packing``)."""
        self.target = target
        self.draft = draft
        self.model: Any = target.model
        self.tokenizer: Any = target.tokenizer
        self.vocab_size = int(self.model.get_input_embeddings().weight.shape[0])
        if pack:
            for m in (target, draft):
                if m is not None:
                    pack_linears(m.model)
        self.proposers: dict[str, Proposer] = make_proposers(self)
        self.method = method
        self.controller: Controller | None = None
        self.metrics: dict[str, SpecMetrics] = {}
        eos = self.model.generation_config.eos_token_id if self.model.generation_config else None
        eos_ids = eos if isinstance(eos, list) else [eos]
        eos_ids.append(self.tokenizer.eos_token_id)
        self.eos_ids = {int(e) for e in eos_ids if e is not None}

    # ---- set-up -------------------------------------------------------------------------------
    def default_method(self) -> str:
        if self.method != "auto":
            return self.method
        return "draft" if "draft" in self.proposers else "prompt_lookup"

    @torch.inference_mode()
    def calibrate(self, context: int = 128) -> Controller:
        """Measure T(n) on this host (and the draft's per-token cost), then build the controller."""
        dev = self.target.device
        ids = torch.randint(0, min(self.vocab_size, 30000), (1, context), device=dev)

        def timer(model: Any) -> Any:
            cache = kv.new_cache()
            kv.forward(model, ids, cache, logits_to_keep=1)

            def fwd(n: int) -> None:
                kv.forward(model, ids[:, :n], cache)
                kv.truncate(cache, context)

            return fwd

        cost = CostModel.calibrate(timer(self.model))
        if "draft" in self.proposers and self.draft is not None:
            dcost = CostModel.calibrate(timer(self.draft.model), sizes=(1,))
            self.proposers["draft"].step_cost = dcost.T(1)  # type: ignore[attr-defined]
        self.controller = Controller(cost)
        log.info("calibrated T(n): %s", {n: round(t * 1000, 1) for n, t in cost.table.items()})
        return self.controller

    # ---- public API ---------------------------------------------------------------------------
    def encode_chat(self, messages: list[dict[str, str]]) -> list[int]:
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            ids = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            return list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
        text = "\n\n".join(m["content"] for m in messages) + "\n\n"
        return self.encode(text)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text)["input_ids"])

    def generate(self, prompt: list[int] | str, params: SamplingParams | None = None) -> Completion:
        params = params or SamplingParams()
        ids = self.encode(prompt) if isinstance(prompt, str) else list(prompt)
        t0 = time.perf_counter()
        text, out, reason = "", [], "length"
        metrics = SpecMetrics()
        first = 0.0
        for chunk in self.stream(ids, params, metrics):
            first = first or time.perf_counter() - t0
            text += chunk.text
            out.extend(chunk.token_ids)
            reason = chunk.finish_reason or reason
        return Completion(text, out, reason, len(ids), metrics, time.perf_counter() - t0, first)

    @torch.inference_mode()
    def stream(
        self, prompt: list[int], params: SamplingParams, metrics: SpecMetrics | None = None
    ) -> Iterator[Chunk]:
        """Yield text as it is decoded; the last chunk carries finish_reason (stop | length)."""
        gen = None
        if params.seed is not None:
            gen = torch.Generator(device="cpu").manual_seed(params.seed)
        req = Request(list(prompt), params, gen, len(prompt))
        if metrics is not None:
            req.metrics = metrics
        method = self.default_method() if params.method == "auto" else params.method
        proposer = None if method == "plain" else self.proposers.get(method)
        if method != "plain" and proposer is None:
            raise ValueError(
                f"unknown or unavailable method {method!r}; have plain, {', '.join(self.proposers)}"
            )
        if proposer is not None and self.controller is None:
            self.calibrate()
        stops = StopChecker(self.tokenizer, params.stop)
        eos = self.eos_ids | set(params.stop_token_ids)
        cache = kv.new_cache()
        if proposer is not None:
            proposer.start(req)
        try:
            ids = torch.tensor([req.tokens], dtype=torch.long, device=self.target.device)
            logits = kv.forward(self.model, ids, cache, logits_to_keep=1)[0, -1]
            new = [self._pick(logits, params, gen)]
            while True:
                req.tokens.extend(new)
                room = params.max_new_tokens - len(req.output)
                kept = new
                reason = None
                for i, t in enumerate(new):
                    if t in eos:
                        kept, reason = new[:i], "stop"
                        break
                if reason is None and room <= 0:
                    kept, reason = new[: len(new) + room], "length"
                text, hit = stops.feed(kept, final=reason is not None)
                if hit:
                    reason = "stop"
                    text += stops.flush()
                yield Chunk(text, kept, reason)
                if reason:
                    return
                new = self._step(req, cache, proposer)
        finally:
            if proposer is not None:
                proposer.finish(req)
            self.metrics.setdefault(method, SpecMetrics()).merge(req.metrics)

    # ---- one step -----------------------------------------------------------------------------
    def _pick(self, logits: torch.Tensor, params: SamplingParams, gen: torch.Generator | None) -> int:
        if params.greedy:
            return int(logits.argmax())
        return sample(probs(logits, params.temperature, params.top_p), gen)

    def _step(self, req: Request, cache: Any, proposer: Proposer | None) -> list[int]:
        past = kv.cache_len(cache)
        k = 0
        if proposer is not None and self.controller is not None:
            k = self.controller.choose(req.spec, proposer.cost)
        draft = proposer.propose(req, k) if k and proposer is not None else Draft()
        dev = self.target.device
        if not draft.tokens:  # the plain path: one token, no mask, no extra work
            ids = torch.tensor([[req.tokens[-1]]], dtype=torch.long, device=dev)
            t0 = time.perf_counter()
            logits = kv.forward(self.model, ids, cache)[0, -1]
            if self.controller is not None:
                self.controller.cost.observe(1, time.perf_counter() - t0)
            req.metrics.record(0, 0, 1)
            if proposer is not None:
                proposer.observe(req, ids[0].tolist(), logits[None], _NO_VERDICT)
            return [self._pick(logits, req.params, req.gen)]
        inputs = [req.tokens[-1], *draft.tokens]
        parents = [-1] + [p + 1 for p in draft.parents]
        chain = all(p == i - 1 for i, p in enumerate(parents))
        kw: dict[str, Any] = {}
        if not chain:
            pos = [past + d for d in kv.depths(parents)]
            kw["position_ids"] = torch.tensor([pos], dtype=torch.long, device=dev)
            kw["attention_mask"] = kv.attention_masks(self.model, parents, past)
        ids = torch.tensor([inputs], dtype=torch.long, device=dev)
        t0 = time.perf_counter()
        p_logits = kv.forward(self.model, ids, cache, **kw)[0]
        if self.controller is not None:
            self.controller.cost.observe(len(inputs), time.perf_counter() - t0)
        verdict = verifier_for(req.params)(draft, p_logits, req.params, req.gen)
        kv.keep(cache, past, [0] + [a + 1 for a in verdict.accepted])
        if proposer is not None:
            proposer.observe(req, inputs, p_logits, verdict)
        accepted = len(verdict.accepted)
        if self.controller is not None:
            self.controller.update(req.spec, draft.depth, accepted)
        req.metrics.record(len(draft), accepted, accepted + 1)
        return [draft.tokens[a] for a in verdict.accepted] + [verdict.next_token]
