"""Speculative-decoding metrics with vLLM's definitions."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class SpecMetrics:
    drafts: int = 0  # verify steps that carried a draft
    draft_tokens: int = 0
    accepted_tokens: int = 0
    steps: int = 0  # target forwards after prefill (drafted or plain)
    generated_tokens: int = 0

    def record(self, drafted: int, accepted: int, emitted: int) -> None:
        self.steps += 1
        self.generated_tokens += emitted
        if drafted:
            self.drafts += 1
            self.draft_tokens += drafted
            self.accepted_tokens += accepted

    def merge(self, other: SpecMetrics) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    @property
    def mean_acceptance_length(self) -> float:
        """1 + accepted / drafts: tokens produced per drafted verify step (vLLM)."""
        return 1.0 + self.accepted_tokens / self.drafts if self.drafts else 1.0

    @property
    def acceptance_rate(self) -> float:
        return self.accepted_tokens / self.draft_tokens if self.draft_tokens else 0.0

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = asdict(self)
        d["mean_acceptance_length"] = round(self.mean_acceptance_length, 3)
        d["acceptance_rate"] = round(self.acceptance_rate, 3)
        return d
