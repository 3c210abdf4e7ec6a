"""Every proposer's greedy output equals plain greedy token for token (real models, fp32)."""

from __future__ import annotations

import pytest
import torch

from oneprice.models.llm.controller import FixedController
from oneprice.models.llm.sampling import SamplingParams

OHLCV = "\n".join(
    f"2024-03-{d:02d},{42000 + 37 * d},{42500 + 41 * d},{41800 + 29 * d},{42300 + 43 * d},{1200 + 17 * d}"
    for d in range(1, 9)
)
CHAT = [
    {
        "role": "user",
        "content": "Convert these OHLCV rows (date,open,high,low,close,volume) to a JSON list of objects "
        f"with keys date, open, high, low, close, volume:\n{OHLCV}",
    }
]
METHODS = [("prompt_lookup", 6), ("token_recycling", 12), ("draft", 4)]


_PLAIN: dict[tuple[int, int], object] = {}


def _run(engine, ids, method, k, n):  # type: ignore[no-untyped-def]
    key = (id(engine), n)
    if method == "plain" and key in _PLAIN:
        return _PLAIN[key]
    engine.controller = None if method == "plain" else FixedController(k)
    out = engine.generate(ids, SamplingParams(max_new_tokens=n, method=method))
    if method == "plain":
        _PLAIN[key] = out
    return out


def test_smollm2_plain_matches_hf_generate(smollm2) -> None:  # type: ignore[no-untyped-def]
    ids = smollm2.encode_chat(CHAT)
    plain = _run(smollm2, ids, "plain", 0, 24)
    hf = smollm2.model.generate(torch.tensor([ids]), max_new_tokens=24, do_sample=False)[0, len(ids) :]
    assert plain.token_ids == [t for t in hf.tolist() if t not in smollm2.eos_ids][: len(plain.token_ids)]


@pytest.mark.parametrize(("method", "k"), METHODS)
def test_smollm2_greedy_lossless(smollm2, method: str, k: int) -> None:  # type: ignore[no-untyped-def]
    ids = smollm2.encode_chat(CHAT)
    plain = _run(smollm2, ids, "plain", 0, 24)
    spec = _run(smollm2, ids, method, k, 24)
    assert spec.metrics.drafts > 0, "the proposer never drafted: the test would prove nothing"
    assert spec.token_ids == plain.token_ids
    assert spec.text == plain.text


def _long_prompt(engine) -> list[int]:  # type: ignore[no-untyped-def]
    rows = "\n".join(
        f"{h:02d}h BTC open {60000 + 13 * h} high {60150 + 11 * h} low {59900 + 7 * h} close {60040 + 9 * h}"
        for h in range(20)
    )
    text = f"Hourly candles, restated twice for the record.\n{rows}\n\nAgain:\n{rows}\n\nAnd once more:\n"
    ids = engine.encode(text)
    assert len(ids) > 560, len(ids)  # past Gemma 3's 512-token sliding window
    return ids


def test_gemma_plain_matches_hf_past_window(gemma) -> None:  # type: ignore[no-untyped-def]
    ids = _long_prompt(gemma)
    plain = _run(gemma, ids, "plain", 0, 16)
    hf = gemma.model.generate(torch.tensor([ids]), max_new_tokens=16, do_sample=False)[0, len(ids) :]
    assert plain.token_ids == [t for t in hf.tolist() if t not in gemma.eos_ids][: len(plain.token_ids)]


@pytest.mark.parametrize(("method", "k"), METHODS)
def test_gemma_greedy_lossless_past_window(gemma, method: str, k: int) -> None:  # type: ignore[no-untyped-def]
    ids = _long_prompt(gemma)
    plain = _run(gemma, ids, "plain", 0, 16)
    spec = _run(gemma, ids, method, k, 16)
    assert spec.metrics.drafts > 0
    assert spec.metrics.accepted_tokens > 0
    assert spec.token_ids == plain.token_ids
