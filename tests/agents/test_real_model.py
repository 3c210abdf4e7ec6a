"""The Decision agent on the real SmolLM2-135M (fp32, CPU): batched and speculative paths."""

from __future__ import annotations

import pytest

from oneprice.agents import prompts
from oneprice.agents.analysts import analyse
from oneprice.agents.cache import CallCache
from oneprice.agents.callers import EngineCaller
from oneprice.agents.pipeline import decide, default_params
from oneprice.agents.prompts import DECISIONS, decision_messages
from oneprice.agents.window import Window
from oneprice.models.llm import registry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    if not registry.is_fetched("smollm2-135m"):
        pytest.skip("run `oneprice llm fetch smollm2-135m` first")
    from oneprice.models.llm.engine import Engine
    from oneprice.models.llm.loader import load

    return Engine(load("smollm2-135m", dtype="fp32", device="cpu"))


def test_every_window_gets_a_decision_or_a_reasoned_abstain(engine, windows: list[Window]) -> None:  # type: ignore[no-untyped-def]
    cache = engine.prefix_cache
    hits, reused = cache.hits, cache.reused_tokens
    ds = decide(windows[:3], EngineCaller(engine, batch=3, method="plain"), "smollm2-135m", CallCache(None))
    assert len(ds) == 3
    # the shared head (system prompt, worked examples) is prefilled once: the next windows reuse it
    head = len(engine.encode_chat(prompts.head_messages()))
    assert cache.hits - hits >= 2 and cache.reused_tokens - reused >= 2 * (head - 8)
    assert not [d.reason for d in ds if d.reason in ("no_json", "invalid_json", "schema")]  # all parse
    for d in ds:
        assert d.decision in DECISIONS
        if d.decision == "ABSTAIN":
            assert d.reason
        else:
            assert d.stop is not None and d.target is not None and 0 < (d.size or 0) <= 1


def test_prompt_lookup_output_equals_plain_on_a_decision_prompt(engine, windows: list[Window]) -> None:  # type: ignore[no-untyped-def]
    w = windows[0]
    msgs = [decision_messages(analyse(w).text(), w.symbol, w.timeframe, len(w))]
    params = default_params(24)
    plain = EngineCaller(engine, batch=1, method="plain").run(msgs, params)[0]
    spec = EngineCaller(engine, batch=1, method="prompt_lookup").run(msgs, params)[0]
    assert plain.text == spec.text and plain.text.startswith("{")  # type: ignore[union-attr]
