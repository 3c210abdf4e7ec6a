"""How the Decision agent's prompts reach a model: any ChatBackend, or our engine directly.

``BackendCaller`` sends one chat per prompt through any ``ChatBackend`` (an OpenAI-compatible server
gets the schema as ``response_format`` where the backend passes it on). ``EngineCaller`` drives the
in-process engine itself: under a JSON schema the engine's grammar mask writes the whole object;
without one it starts the reply with ``REPLY_PREFIX`` (the model only continues the JSON object). It
decodes several windows in one batch (plain batched steps) or one window at a time through the
engine's speculative path (prompt lookup pays here: the justification restates numbers from the
reports). Each result is a ``ChatResult`` or the exception that call hit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Protocol

from oneprice.agents.prompts import REPLY_PREFIX
from oneprice.models.llm.backends import ChatBackend, ChatResult, Messages
from oneprice.models.llm.sampling import SamplingParams


@dataclass
class CallStats:
    calls: int = 0
    seconds: float = 0.0
    completion_tokens: int = 0
    prompt_tokens: int = 0


class Caller(Protocol):
    stats: CallStats

    def run(self, prompts: list[Messages], params: SamplingParams) -> list[ChatResult | Exception]: ...


class BackendCaller:
    def __init__(self, backend: ChatBackend) -> None:
        self.backend = backend
        self.stats = CallStats()

    def run(self, prompts: list[Messages], params: SamplingParams) -> list[ChatResult | Exception]:
        out: list[ChatResult | Exception] = []
        for m in prompts:
            t0 = time.perf_counter()
            try:
                r = self.backend.chat(m, params)
            except Exception as exc:  # a backend failure is this window's ABSTAIN, not the run's end
                out.append(exc)
                continue
            self.stats.calls += 1
            self.stats.seconds += time.perf_counter() - t0
            self.stats.completion_tokens += r.completion_tokens
            self.stats.prompt_tokens += r.prompt_tokens
            out.append(r)
        return out


class EngineCaller:
    """``batch > 1``: plain batched decoding; ``batch == 1``: one by one with ``method`` (speculation)."""

    def __init__(self, engine: Any, batch: int = 8, method: str = "auto") -> None:
        self.engine = engine
        self.batch = batch
        self.method = method
        self.stats = CallStats()
        self.prefix_ids = list(engine.tokenizer(REPLY_PREFIX, add_special_tokens=False)["input_ids"])

    def _prefix(self, params: SamplingParams) -> tuple[list[int], str]:
        """The reply's forced start: none where the grammar constrains the whole reply."""
        return ([], "") if params.json_schema is not None else (self.prefix_ids, REPLY_PREFIX)

    def _ids(self, m: Messages, params: SamplingParams) -> list[int]:
        return list(self.engine.encode_chat(m)) + self._prefix(params)[0]

    def run(self, prompts: list[Messages], params: SamplingParams) -> list[ChatResult | Exception]:
        params = replace(params, method=self.method)
        out: list[ChatResult | Exception] = []
        for i in range(0, len(prompts), self.batch):
            chunk = prompts[i : i + self.batch]
            t0 = time.perf_counter()
            try:
                res = (
                    self._batch(chunk, params)
                    if self.batch > 1 and len(chunk) > 1
                    else self._one(chunk, params)
                )
            except Exception as exc:  # the whole chunk failed (out of memory, a bad tensor)
                out.extend(exc for _ in chunk)
                continue
            self.stats.seconds += time.perf_counter() - t0
            for r in res:
                self.stats.calls += 1
                self.stats.completion_tokens += r.completion_tokens
                self.stats.prompt_tokens += r.prompt_tokens
            out.extend(res)
        return out

    def _one(self, chunk: list[Messages], params: SamplingParams) -> list[ChatResult]:
        res = []
        head = self._prefix(params)[1]
        for m in chunk:
            ids = self._ids(m, params)
            c = self.engine.generate(ids, params)
            res.append(ChatResult(head + c.text, c.finish_reason, len(ids), len(c.token_ids)))
        return res

    def _batch(self, chunk: list[Messages], params: SamplingParams) -> list[ChatResult]:
        from oneprice.models.llm.batch import stream_batch

        head = self._prefix(params)[1]
        prompts = [self._ids(m, params) for m in chunk]
        texts = [""] * len(chunk)
        counts = [0] * len(chunk)
        reasons = ["length"] * len(chunk)
        for r, ch in stream_batch(self.engine, prompts, [params] * len(chunk)):
            texts[r] += ch.text
            counts[r] += len(ch.token_ids)
            if ch.finish_reason:
                reasons[r] = ch.finish_reason
        return [ChatResult(head + t, reasons[r], len(prompts[r]), counts[r]) for r, t in enumerate(texts)]
