"""The decode loop: prefill, then plain steps (k = 0) or speculative steps (propose, verify, roll back).

A request is opened (``open``: prefill, reusing a cached prefix, and the first token), then alternates
``emit`` (commit the pending tokens, check EOS, length, stop strings and grammar completion) and
``step`` (one plain or speculative step); ``stream`` drives that loop for one request, and the
scheduler (``batch``) drives it for many.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from oneprice.models.llm import kv
from oneprice.models.llm.controller import Controller, CostModel, RequestSpec, RunState
from oneprice.models.llm.grammar import Constraint, constraint_for
from oneprice.models.llm.loader import LoadedModel
from oneprice.models.llm.metrics import SpecMetrics
from oneprice.models.llm.packing import pack_linears
from oneprice.models.llm.prefix import PrefixCache
from oneprice.models.llm.proposers import Proposer, make_proposers
from oneprice.models.llm.sampling import SamplingParams, generator, probs, sample
from oneprice.models.llm.text import StopChecker
from oneprice.models.llm.verify import Draft, Verdict, verifier_for

log = logging.getLogger(__name__)
_NO_VERDICT = Verdict([], -1)  # what observe() gets after a plain step


def sync(device: torch.device) -> None:
    """Wait for queued GPU work, so a timer measures compute, not kernel launches."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Request:
    tokens: list[int]  # prompt + committed output; the last one is not yet in the KV cache
    params: SamplingParams
    gen: torch.Generator | None
    prompt_len: int
    metrics: SpecMetrics = field(default_factory=SpecMetrics)
    state: dict[str, Any] = field(default_factory=dict)
    constraint: Constraint | None = None
    method: str = "plain"
    proposers: dict[str, Proposer] = field(default_factory=dict)
    run: RunState = field(default_factory=RunState)
    cache: Any = None  # this request's own KV cache (None while it sits in a batch's joint cache)
    pending: list[int] = field(default_factory=list)  # decided, not yet emitted
    finish_reason: str | None = None
    stops: StopChecker | None = None
    eos: set[int] = field(default_factory=set)
    cancelled: bool = False

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
        self,
        target: LoadedModel,
        draft: LoadedModel | None = None,
        method: str = "auto",
        pack: bool = True,
        prefix_cache_mb: int = 256,
    ) -> None:
        """``pack``: pre-pack the linear layers of p and q for CPU decoding (in place; see ``packing``).

        ``method``: what a request asking for ``auto`` gets: ``auto`` (the controller picks among all
        proposers at every step), ``plain`` or one proposer's name. ``prefix_cache_mb`` = 0 turns
        prefix caching off.
        """
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
        self.prefix_cache = PrefixCache(prefix_cache_mb << 20) if prefix_cache_mb > 0 else None
        self.max_context = int(getattr(self.model.config, "max_position_embeddings", 0) or 0) or None
        eos = self.model.generation_config.eos_token_id if self.model.generation_config else None
        eos_ids = eos if isinstance(eos, list) else [eos]
        eos_ids.append(self.tokenizer.eos_token_id)
        self.eos_ids = {int(e) for e in eos_ids if e is not None}

    # ---- set-up -------------------------------------------------------------------------------
    def proposers_for(self, method: str) -> dict[str, Proposer]:
        """The proposers a request may use: all for ``auto``, none for ``plain``, else the one named."""
        if method == "auto":
            method = self.method
        if method == "auto":
            return dict(self.proposers)
        if method == "plain":
            return {}
        if method not in self.proposers:
            raise ValueError(
                f"unknown or unavailable method {method!r}; have auto, plain, {', '.join(self.proposers)}"
            )
        return {method: self.proposers[method]}

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

        cost = CostModel.calibrate(timer(self.model), sync=lambda: sync(dev))
        if "draft" in self.proposers and self.draft is not None:
            dcost = CostModel.calibrate(timer(self.draft.model), sizes=(1,), sync=lambda: sync(dev))
            self.proposers["draft"].prior = dcost.T(1)
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

    def stream(
        self, prompt: list[int], params: SamplingParams, metrics: SpecMetrics | None = None
    ) -> Iterator[Chunk]:
        """Yield text as it is decoded; the last chunk carries finish_reason (stop | length)."""
        req = self.open(prompt, params, metrics)
        try:
            while True:
                chunk = self.emit(req)
                yield chunk
                if chunk.finish_reason:
                    return
                self.step(req)
        finally:
            self.close(req)

    # ---- one request, step by step ------------------------------------------------------------
    @torch.inference_mode()
    def open(self, prompt: list[int], params: SamplingParams, metrics: SpecMetrics | None = None) -> Request:
        """Check the request, prefill its prompt (reusing a cached prefix) and pick its first token."""
        if not prompt:
            raise ValueError("empty prompt")
        if self.max_context and len(prompt) >= self.max_context:
            raise ValueError(f"prompt of {len(prompt)} tokens; the model's context is {self.max_context}")
        proposers = self.proposers_for(params.method)
        constraint = constraint_for(self, params.json_schema, params.regex)
        req = Request(list(prompt), params, generator(params.seed, self.target.device), len(prompt))
        req.constraint = constraint
        req.proposers = proposers
        req.method = params.method if params.method != "auto" else self.method
        if metrics is not None:
            req.metrics = metrics
        if proposers and self.controller is None:
            self.calibrate()
        req.stops = StopChecker(self.tokenizer, params.stop)
        req.eos = self.eos_ids | set(params.stop_token_ids)
        for p in proposers.values():
            p.start(req)
        t0 = time.perf_counter()
        req.cache, logits = self.prefill(req.tokens)
        req.pending = [self.pick(logits, req)]
        req.run.elapsed = time.perf_counter() - t0  # the controller's loss budget counts the prefill
        return req

    def prefill(self, tokens: list[int]) -> tuple[Any, torch.Tensor]:
        """(KV cache of tokens, logits after the last one); only the part no cached prefix holds runs."""
        n, cache = self.prefix_cache.lookup(tokens) if self.prefix_cache is not None else (0, None)
        if cache is None:
            n, cache = 0, kv.new_cache()
        ids = torch.tensor([tokens[n:]], dtype=torch.long, device=self.target.device)
        logits = kv.forward(self.model, ids, cache, logits_to_keep=1)[0, -1]
        if self.prefix_cache is not None:
            self.prefix_cache.insert(tokens, cache)
        return cache, logits

    def pick(self, logits: torch.Tensor, req: Request) -> int:
        """The next token from logits: grammar mask, then greedy or sampled; committed to the grammar."""
        if req.constraint is not None:
            logits = req.constraint.mask_logits(logits)
        p = req.params
        t = int(logits.argmax()) if p.greedy else sample(probs(logits, p.temperature, p.top_p), req.gen)
        if req.constraint is not None:
            req.constraint.advance(t)
        return t

    def emit(self, req: Request) -> Chunk:
        """Commit the pending tokens; the chunk's finish_reason says whether the request ended."""
        new, req.pending = req.pending, []
        req.tokens.extend(new)
        room = req.params.max_new_tokens - len(req.output)
        kept, reason = new, None
        for i, t in enumerate(new):
            if t in req.eos:
                kept, reason = new[:i], "stop"
                break
        if reason is None and room <= 0:
            kept, reason = new[: len(new) + room], "length"
        if reason is None and req.constraint is not None and req.constraint.done:
            reason = "stop"  # the grammar is complete: nothing but EOS could follow
        if reason is None and self.max_context and len(req.tokens) >= self.max_context:
            reason = "length"
        assert req.stops is not None
        text, hit = req.stops.feed(kept, final=reason is not None)
        if hit:
            reason = "stop"
            text += req.stops.flush()
        if reason is None and req.cancelled:
            reason = "cancelled"
        req.finish_reason = reason
        return Chunk(text, kept, reason)

    @torch.inference_mode()
    def step(self, req: Request) -> None:
        """One plain or speculative step on the request's own cache; its tokens become pending."""
        req.pending = self._step(req)

    def close(self, req: Request) -> None:
        for p in req.proposers.values():
            p.finish(req)
        self.metrics.setdefault(req.method, SpecMetrics()).merge(req.metrics)

    # ---- one step -----------------------------------------------------------------------------
    def _step(self, req: Request) -> list[int]:
        cache, dev, ctl = req.cache, self.target.device, self.controller
        past = kv.cache_len(cache)
        t0 = time.perf_counter()
        name, k = (None, 0)
        if req.proposers and ctl is not None:
            req.run.remaining = req.params.max_new_tokens - len(req.output) - len(req.pending)
            name, k = ctl.plan(req.run, {n: p.cost for n, p in req.proposers.items()})
        proposer = req.proposers.get(name) if name else None
        draft = Draft()
        if proposer is not None and k:
            draft = proposer.propose(req, k)
            proposer.per_token.add((time.perf_counter() - t0) / max(len(draft), 1))
            chain = all(p == i - 1 for i, p in enumerate(draft.parents))
            if draft.tokens and req.constraint is not None and chain:
                n = req.constraint.valid_prefix(draft.tokens)  # drop what the grammar forbids up front
                q = draft.q[:n] if draft.q is not None else None
                draft = Draft(draft.tokens[:n], draft.parents[:n], q)
        if not draft.tokens:  # the plain path: one token, no mask, no extra work
            ids = torch.tensor([[req.tokens[-1]]], dtype=torch.long, device=dev)
            tf = time.perf_counter()
            logits = kv.forward(self.model, ids, cache)[0, -1]
            sync(dev)
            if ctl is not None:
                ctl.cost.observe(1, time.perf_counter() - tf)
            req.metrics.record(0, 0, 1)
            for p in req.proposers.values():
                p.observe(req, ids[0].tolist(), logits[None], _NO_VERDICT)
            token = self.pick(logits, req)
            if ctl is not None:  # an empty draft counts against its proposer, at plain's cost
                ctl.record(req.run, name if proposer is not None else None, 1, time.perf_counter() - t0)
            return [token]
        inputs = [req.tokens[-1], *draft.tokens]
        parents = [-1] + [p + 1 for p in draft.parents]
        chain = all(p == i - 1 for i, p in enumerate(parents))
        kw: dict[str, Any] = {}
        if not chain:
            pos = [past + d for d in kv.depths(parents)]
            kw["position_ids"] = torch.tensor([pos], dtype=torch.long, device=dev)
            kw["attention_mask"] = kv.attention_masks(self.model, parents, past)
        ids = torch.tensor([inputs], dtype=torch.long, device=dev)
        tf = time.perf_counter()
        p_logits = kv.forward(self.model, ids, cache, **kw)[0]
        sync(dev)
        if ctl is not None:
            ctl.cost.observe(len(inputs), time.perf_counter() - tf)
        verdict = verifier_for(req.params)(draft, p_logits, req.params, req.gen, req.constraint)
        kv.keep(cache, past, [0] + [a + 1 for a in verdict.accepted])
        for p in req.proposers.values():
            p.observe(req, inputs, p_logits, verdict)
        accepted = len(verdict.accepted)
        if ctl is not None and name is not None:
            ctl.update(req.run.spec.setdefault(name, RequestSpec()), draft.depth, accepted)
            ctl.record(req.run, name, accepted + 1, time.perf_counter() - t0)
        req.metrics.record(len(draft), accepted, accepted + 1)
        return [draft.tokens[a] for a in verdict.accepted] + [verdict.next_token]
