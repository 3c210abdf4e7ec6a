"""Real-model fixtures. Models come from the local cache filled by `oneprice llm fetch NAME`."""

from __future__ import annotations

import pytest
import torch

from oneprice.models.llm import registry

# One intra-op thread: on a shared host two spinning oneDNN threads per process slow every test
# several-fold; results do not depend on the thread count.
torch.set_num_threads(1)


def _require(name: str) -> None:
    if not registry.is_fetched(name):
        pytest.skip(f"model {name} not in the cache: run `.venv/bin/oneprice llm fetch {name}` first")


def _engine(name: str, dtype: str = "fp32", draft_dtype: str | None = None):  # type: ignore[no-untyped-def]
    from oneprice.models.llm.engine import Engine
    from oneprice.models.llm.loader import load

    _require(name)
    target = load(name, dtype=dtype, device="cpu")
    draft = load(name, dtype=draft_dtype, device="cpu") if draft_dtype else None
    return Engine(target, draft)


@pytest.fixture(scope="session")
def smollm2():  # type: ignore[no-untyped-def]
    """SmolLM2-135M fp32 target; its bf16 copy is the draft model q (same tokenizer, different q)."""
    return _engine("smollm2-135m", "fp32", "bf16")


@pytest.fixture(scope="session")
def gemma():  # type: ignore[no-untyped-def]
    """Gemma 3 270M fp32 target (sliding window 512) with a bf16 copy as the draft model."""
    return _engine("gemma3-270m", "fp32", "bf16")
