"""Prefix caching keeps outputs exact; GPU correctness checks (run wherever CUDA is present)."""

from __future__ import annotations

import pytest
import torch

from oneprice.models.llm.controller import FixedController
from oneprice.models.llm.sampling import SamplingParams, generator, sample

SYSTEM = "You are a trading agent. " + " ".join(f"Rule {i}: never trade symbol S{i}." for i in range(12))


def test_shared_system_prompt_reuses_kv_and_keeps_output(smollm2) -> None:  # type: ignore[no-untyped-def]
    cache = smollm2.prefix_cache
    asks = ["Should I buy S3?", "Summarise the rules."]
    ids = [
        smollm2.encode_chat([{"role": "system", "content": SYSTEM}, {"role": "user", "content": a}])
        for a in asks
    ]
    params = SamplingParams(max_new_tokens=8, method="plain")
    smollm2.prefix_cache = None
    try:
        cold = [smollm2.generate(x, params).token_ids for x in ids]
    finally:
        smollm2.prefix_cache = cache
    cache.clear()
    hits = cache.hits
    warm = [smollm2.generate(x, params).token_ids for x in ids]
    assert warm == cold
    assert cache.hits == hits + 1 and cache.reused_tokens >= len(smollm2.encode(SYSTEM)) // 2


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def gpu_engine():  # type: ignore[no-untyped-def]
    from oneprice.models.llm.engine import Engine
    from oneprice.models.llm.loader import load
    from tests.llm.conftest import _require

    _require("smollm2-135m")
    target = load("smollm2-135m", dtype="fp32", device="cuda")
    return Engine(target, load("smollm2-135m", dtype="bf16", device="cuda"), pack=False)


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize(("method", "k"), [("prompt_lookup", 6), ("token_recycling", 12), ("draft", 4)])
def test_gpu_greedy_equals_plain(gpu_engine, method: str, k: int) -> None:  # type: ignore[no-untyped-def]
    ids = gpu_engine.encode("Restate: RSI 61.2, SMA5 26144.0, SMA20 25990.5. Restate: RSI 61.2, SMA5")
    gpu_engine.controller = None
    plain = gpu_engine.generate(ids, SamplingParams(max_new_tokens=24, method="plain"))
    gpu_engine.controller = FixedController(k)
    spec = gpu_engine.generate(ids, SamplingParams(max_new_tokens=24, method=method))
    gpu_engine.controller = None
    assert spec.metrics.drafts > 0 and spec.token_ids == plain.token_ids


@pytest.mark.gpu
@cuda
def test_gpu_seeded_sampling_runs_and_repeats(gpu_engine) -> None:  # type: ignore[no-untyped-def]
    gen = generator(3, torch.device("cuda"))
    assert gen is not None and gen.device.type == "cuda"
    assert 0 <= sample(torch.softmax(torch.randn(50, device="cuda"), -1), gen) < 50
    ids = gpu_engine.encode("Bitcoin is")
    gpu_engine.controller = FixedController(3)
    p = SamplingParams(max_new_tokens=16, temperature=0.8, seed=11, method="draft")
    a, b = gpu_engine.generate(ids, p), gpu_engine.generate(ids, p)
    gpu_engine.controller = None
    assert a.token_ids == b.token_ids and a.token_ids


@pytest.mark.gpu
@cuda
def test_gpu_calibration_is_synchronised_and_monotone(gpu_engine) -> None:  # type: ignore[no-untyped-def]
    ctl = gpu_engine.calibrate()
    table = ctl.cost.table
    assert all(t > 0 for t in table.values())
    assert table[max(table)] >= table[1] * 0.9  # 33 tokens never measure cheaper than one
    from oneprice.models.llm.loader import resolve_dtype

    want = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    assert resolve_dtype("auto", torch.device("cuda")) == want
