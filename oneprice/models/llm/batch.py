"""Batching of concurrent requests: a scheduler thread that decodes waiting requests together.

A lone request takes the engine's speculative path; several at once share plain batched steps
(left-padded, one forward for all rows), where speculation rarely pays (SmartSpec: k -> 0 under load).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch

from oneprice.models.llm import kv
from oneprice.models.llm.engine import Chunk, Engine
from oneprice.models.llm.sampling import SamplingParams, probs, sample
from oneprice.models.llm.text import StopChecker

log = logging.getLogger(__name__)


@torch.inference_mode()
def stream_batch(
    engine: Engine, prompts: list[list[int]], params: list[SamplingParams]
) -> Iterator[tuple[int, Chunk]]:
    """Decode several prompts in one batch; yields (row, chunk), each row ending with a finish_reason."""
    model, dev = engine.model, engine.target.device
    tok = engine.tokenizer
    pad = tok.pad_token_id if tok.pad_token_id is not None else min(engine.eos_ids)
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for r, p in enumerate(prompts):
        ids[r, width - len(p) :] = torch.tensor(p)
        mask[r, width - len(p) :] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    gens = [torch.Generator().manual_seed(p.seed) if p.seed is not None else None for p in params]
    stops = [StopChecker(tok, p.stop) for p in params]
    eos = [engine.eos_ids | set(p.stop_token_ids) for p in params]
    done = [False] * len(prompts)
    counts = [0] * len(prompts)
    cache = kv.new_cache()
    logits = kv.forward(
        model, ids.to(dev), cache, attention_mask=mask.to(dev), position_ids=pos.to(dev), logits_to_keep=1
    )[:, -1]
    while True:
        nxt = []
        for r, sp in enumerate(params):
            t = (
                int(logits[r].argmax())
                if sp.greedy
                else sample(probs(logits[r], sp.temperature, sp.top_p), gens[r])
            )
            nxt.append(pad if done[r] else t)
            if done[r]:
                continue
            counts[r] += 1
            reason = "stop" if t in eos[r] else ("length" if counts[r] >= sp.max_new_tokens else None)
            kept = [] if t in eos[r] else [t]
            text, hit = stops[r].feed(kept, final=reason is not None)
            if hit:
                reason = "stop"
            done[r] = reason is not None
            yield r, Chunk(text, kept, reason)
        if all(done):
            return
        mask = torch.cat([mask, torch.ones((len(prompts), 1), dtype=torch.long)], dim=1)
        pos = pos[:, -1:] + 1
        step = torch.tensor([nxt], device=dev).T
        logits = kv.forward(model, step, cache, attention_mask=mask.to(dev), position_ids=pos.to(dev))[:, -1]


@dataclass
class _Job:
    prompt: list[int]
    params: SamplingParams
    out: queue.Queue[Chunk | BaseException] = field(default_factory=queue.Queue)


class Scheduler:
    """Runs the engine on one worker thread; concurrent submissions are batched."""

    def __init__(self, engine: Engine, max_batch: int = 8, gather_s: float = 0.01) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.gather_s = gather_s
        self.jobs: queue.Queue[_Job] = queue.Queue()
        self.batches = 0  # batches of more than one request run so far
        self._thread = threading.Thread(target=self._run, name="llm-scheduler", daemon=True)
        self._thread.start()

    def submit(self, prompt: list[int], params: SamplingParams) -> Iterator[Chunk]:
        job = _Job(prompt, params)
        self.jobs.put(job)
        while True:
            item = job.out.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if item.finish_reason is not None:
                return

    def _run(self) -> None:
        while True:
            batch = [self.jobs.get()]
            try:
                while len(batch) < self.max_batch:
                    batch.append(self.jobs.get(timeout=self.gather_s))
            except queue.Empty:
                pass
            try:
                self._serve(batch)
            except BaseException as exc:  # hand the failure to every waiting caller
                log.exception("llm batch failed")
                for job in batch:
                    job.out.put(exc)

    def _serve(self, batch: list[_Job]) -> None:
        if len(batch) == 1:
            job = batch[0]
            for chunk in self.engine.stream(job.prompt, job.params):
                job.out.put(chunk)
            return
        self.batches += 1
        plain = [SamplingParams(**{**vars(j.params), "method": "plain"}) for j in batch]
        for row, chunk in stream_batch(self.engine, [j.prompt for j in batch], plain):
            batch[row].out.put(chunk)
