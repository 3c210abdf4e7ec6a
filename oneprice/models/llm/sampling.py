"""Turning logits into distributions: temperature and nucleus (top-p)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class SamplingParams:
    max_new_tokens: int = 128
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    method: str = "auto"  # a proposer name, "plain" (k = 0 always) or "auto" (engine default)
    stop_token_ids: tuple[int, ...] = field(default_factory=tuple)
    # Structured output: a JSON Schema ({} or {"type": "object"} for any JSON object) or a regex the
    # completion must match; the local engine constrains decoding, remote backends pass it on.
    json_schema: dict[str, Any] | None = None
    regex: str | None = None

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


def probs(logits: torch.Tensor, temperature: float, top_p: float = 1.0) -> torch.Tensor:
    """Row-wise distribution after temperature and top-p; works on [..., V] float logits."""
    x = logits.float() / max(temperature, 1e-6)
    p = torch.softmax(x, dim=-1)
    if top_p < 1.0:
        sp, si = torch.sort(p, dim=-1, descending=True)
        cum = torch.cumsum(sp, dim=-1)
        drop = (cum - sp) >= top_p  # keep the smallest prefix whose mass reaches top_p
        sp = sp.masked_fill(drop, 0.0)
        p = torch.zeros_like(p).scatter(-1, si, sp)
        p = p / p.sum(dim=-1, keepdim=True)
    return p


def sample(p: torch.Tensor, gen: torch.Generator | None) -> int:
    """One draw from p; ``gen`` must live on p's device (CUDA generators for CUDA tensors)."""
    return int(torch.multinomial(p, 1, generator=gen).item())


def uniform(gen: torch.Generator | None, device: torch.device) -> float:
    """A U(0, 1) draw from gen (on gen's device, so a seeded CUDA run never mixes devices)."""
    return float(torch.rand(1, generator=gen, device=gen.device if gen is not None else device).item())


def generator(seed: int | None, device: torch.device) -> torch.Generator | None:
    """A seeded generator on the model's device (``multinomial`` on CUDA refuses a CPU generator)."""
    if seed is None:
        return None
    return torch.Generator(device=device).manual_seed(int(seed))
