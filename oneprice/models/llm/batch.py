"""Continuous batching: one scheduler thread decodes every running request, admitting and retiring them
between steps.

A request is prefilled on its own (reusing a cached prefix) and then joins the running batch: the
batch's KV cache is left-padded so every row ends at the same column, with an attention mask over the
padding. A row that finishes, or whose client went away (``Job.cancel``), leaves at once and the next
waiting request takes its place. A lone request runs the engine's speculative step on its own cache;
several share plain batched steps (SmartSpec: speculation rarely pays under load). ``Scheduler.active``
counts requests accepted and not yet finished (waiting or running): it returns to 0 when no work is
left, cancelled work included.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from oneprice.models.llm import kv
from oneprice.models.llm.engine import Chunk, Engine, Request
from oneprice.models.llm.sampling import SamplingParams

log = logging.getLogger(__name__)


class Busy(RuntimeError):
    """The scheduler's waiting room is full (the server answers 503)."""


@dataclass
class Job:
    prompt: list[int]
    params: SamplingParams
    out: queue.Queue[Chunk | BaseException] = field(default_factory=queue.Queue)
    cancelled: bool = False
    req: Request | None = None

    def cancel(self) -> None:
        self.cancelled = True

    def chunks(self, alive: Callable[[], bool] | None = None, poll_s: float = 0.5) -> Iterator[Chunk]:
        """The request's chunks; stops (and cancels the job) when ``alive()`` turns false or on close."""
        try:
            while True:
                try:
                    item = self.out.get(timeout=poll_s)
                except queue.Empty:
                    if alive is not None and not alive():
                        self.cancel()
                        return
                    continue
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.finish_reason is not None:
                    return
        finally:
            self.cancel()  # a consumer that stops early (disconnect, error) frees the row


class BatchKV:
    """The running rows' joint KV cache, left-padded, with its [rows, columns] attention mask."""

    def __init__(self) -> None:
        self.cache: Any = None
        self.mask = torch.zeros((0, 0), dtype=torch.long)

    def _layers(self) -> list[Any]:
        return [la for la in self.cache.layers if getattr(la, "is_initialized", False)]

    def add(self, cache: Any) -> None:
        """Append a row whose own cache (batch 1, no padding) is ``cache``."""
        n = kv.cache_len(cache)
        if self.cache is None:
            self.cache, self.mask = cache, torch.ones((1, n), dtype=torch.long)
            return
        width = self.mask.shape[1]
        total = max(width, n)
        for mine, theirs in zip(self.cache.layers, cache.layers, strict=True):
            for attr in ("keys", "values"):
                a, b = getattr(mine, attr), getattr(theirs, attr)
                a = _pad_left(a, total - width)
                b = _pad_left(b, total - n)
                setattr(mine, attr, torch.cat([a, b], dim=0))
        old = torch.nn.functional.pad(self.mask, (total - width, 0))
        row = torch.nn.functional.pad(torch.ones((1, n), dtype=torch.long), (total - n, 0))
        self.mask = torch.cat([old, row], dim=0)

    def keep(self, rows: list[int]) -> None:
        """Keep only these rows; drop the columns that are padding in all of them."""
        if not rows:
            self.cache, self.mask = None, torch.zeros((0, 0), dtype=torch.long)
            return
        mask = self.mask[rows]
        first = int(mask.any(dim=0).nonzero()[0])
        idx = torch.tensor(rows, dtype=torch.long)
        for layer in self._layers():
            sel = idx.to(layer.keys.device)
            layer.keys = layer.keys.index_select(0, sel)[..., first:, :]
            layer.values = layer.values.index_select(0, sel)[..., first:, :]
        self.mask = mask[:, first:]

    def grow(self) -> None:
        self.mask = torch.cat([self.mask, torch.ones((self.mask.shape[0], 1), dtype=torch.long)], dim=1)

    def sync_solo(self) -> None:
        """After a lone row's own (speculative) step: the mask follows its cache's length."""
        self.mask = torch.ones((1, kv.cache_len(self.cache)), dtype=torch.long)


def _pad_left(t: torch.Tensor, n: int) -> torch.Tensor:
    if n <= 0:
        return t
    pad = torch.zeros((*t.shape[:-2], n, t.shape[-1]), dtype=t.dtype, device=t.device)
    return torch.cat([pad, t], dim=-2)


class Scheduler:
    """Runs the engine on one worker thread with continuous batching."""

    def __init__(self, engine: Engine, max_batch: int = 8, max_waiting: int = 64) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.max_waiting = max_waiting
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.batches = 0  # steps that decoded more than one request together
        self.peak_batch = 0
        self._active = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="llm-scheduler", daemon=True)
        self._thread.start()

    @property
    def active(self) -> int:
        """Requests accepted and not yet finished (waiting or running)."""
        return self._active

    def submit(self, prompt: list[int], params: SamplingParams) -> Job:
        with self._lock:
            if self._active >= self.max_batch + self.max_waiting:
                raise Busy(f"{self._active} requests in flight; try again later")
            self._active += 1
        job = Job(list(prompt), params)
        self.jobs.put(job)
        return job

    def stop(self) -> None:
        """End the worker thread once the running requests are done (waiting ones are cancelled)."""
        self.jobs.put(None)

    def stream(self, prompt: list[int], params: SamplingParams) -> Iterator[Chunk]:
        return self.submit(prompt, params).chunks()

    def _done(self, job: Job) -> None:
        if job.req is not None:
            self.engine.close(job.req)
            job.req = None
        with self._lock:
            self._active -= 1

    def _admit(self, job: Job) -> bool:
        """Prefill a waiting job and hand out its first chunk; False when it is already over."""
        if job.cancelled:
            job.out.put(Chunk("", [], "cancelled"))
            self._done(job)
            return False
        try:
            job.req = self.engine.open(job.prompt, job.params)
            chunk = self.engine.emit(job.req)
        except Exception as exc:  # a bad request fails alone
            job.out.put(exc)
            self._done(job)
            return False
        job.out.put(chunk)
        if chunk.finish_reason:
            self._done(job)
            return False
        return True

    def _run(self) -> None:
        rows: list[Job] = []
        kvb = BatchKV()
        stopping = False
        while True:
            try:
                while len(rows) < self.max_batch and not stopping:
                    job = self.jobs.get() if not rows else self.jobs.get_nowait()
                    if job is None:
                        stopping = True
                        break
                    if self._admit(job):
                        assert job.req is not None
                        kvb.add(job.req.cache)
                        rows.append(job)
            except queue.Empty:
                pass
            try:
                rows = self._step(rows, kvb)
            except Exception as exc:  # hand the failure to every running caller
                log.exception("llm step failed")
                for job in rows:
                    job.out.put(exc)
                    self._done(job)
                rows, kvb = [], BatchKV()
            if stopping and not rows:
                while True:  # cancel whatever still waits
                    try:
                        job = self.jobs.get_nowait()
                    except queue.Empty:
                        return
                    if job is not None:
                        job.cancel()
                        self._admit(job)

    def _step(self, rows: list[Job], kvb: BatchKV) -> list[Job]:
        live = [i for i, j in enumerate(rows) if not j.cancelled]
        if len(live) < len(rows):
            for job in rows:
                if job.cancelled:
                    job.out.put(Chunk("", [], "cancelled"))
                    self._done(job)
            kvb.keep(live)
            rows = [rows[i] for i in live]
        if not rows:
            return rows
        reqs = [j.req for j in rows]
        if len(rows) == 1:
            req = reqs[0]
            assert req is not None
            req.cache = kvb.cache
            self.engine.step(req)
            kvb.sync_solo()
        else:
            self.batches += 1
            self.peak_batch = max(self.peak_batch, len(rows))
            self._batched_step(reqs, kvb)  # type: ignore[arg-type]
        finished = []
        for i, job in enumerate(rows):
            assert job.req is not None
            chunk = self.engine.emit(job.req)
            job.out.put(chunk)
            if chunk.finish_reason:
                finished.append(i)
                self._done(job)
        if finished:
            keep = [i for i in range(len(rows)) if i not in finished]
            kvb.keep(keep)
            rows = [rows[i] for i in keep]
        return rows

    @torch.inference_mode()
    def _batched_step(self, reqs: list[Request], kvb: BatchKV) -> None:
        eng = self.engine
        dev = eng.target.device
        ids = torch.tensor([[r.tokens[-1]] for r in reqs], dtype=torch.long, device=dev)
        pos = torch.tensor([[len(r.tokens) - 1] for r in reqs], dtype=torch.long, device=dev)
        kvb.grow()
        logits = kv.forward(eng.model, ids, kvb.cache, attention_mask=kvb.mask.to(dev), position_ids=pos)
        for r, req in enumerate(reqs):
            req.cache = None  # the row lives in the joint cache now
            req.metrics.record(0, 0, 1)
            req.pending = [eng.pick(logits[r, -1], req)]


def stream_batch(
    engine: Engine, prompts: list[list[int]], params: list[SamplingParams]
) -> Iterator[tuple[int, Chunk]]:
    """Decode several prompts together through a private scheduler; yields (row, chunk) as they come."""
    sched = Scheduler(engine, max_batch=max(len(prompts), 1))
    jobs = [sched.submit(p, sp) for p, sp in zip(prompts, params, strict=True)]
    try:
        for r, job in enumerate(jobs):
            for chunk in job.chunks():
                yield r, chunk
    finally:
        sched.stop()
