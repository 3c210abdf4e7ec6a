"""The Decision agent through a scripted backend: validation, ABSTAIN reasons, cache, risk in code."""

from __future__ import annotations

import json

import pytest

from oneprice.agents import prompts
from oneprice.agents.analysts import analyse
from oneprice.agents.cache import CallCache, call_key
from oneprice.agents.callers import BackendCaller
from oneprice.agents.pipeline import decide, rules_only
from oneprice.agents.window import Window
from oneprice.core.errors import TransientError
from tests.agents.conftest import ScriptedBackend, good


def test_valid_reply_gives_the_decision_with_code_risk(windows: list[Window]) -> None:
    be = ScriptedBackend([good("SHORT", analyse(windows[0]).reports[0].text[:40])])
    [d] = decide(windows[:1], BackendCaller(be), "m", CallCache(None))
    assert d.decision == "SHORT" and d.confidence == 0.7 and d.reason == ""
    entry = float(windows[0].close[-1])
    assert d.stop is not None and d.target is not None and d.size is not None
    assert d.target < entry < d.stop  # a short: stop above, target below
    assert d.quotes_evidence
    assert be.seen[0][1].json_schema == prompts.DECISION_SCHEMA  # the schema goes to the backend


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("I think it goes up.", "json"),
        ('{"decision": "BUY", "confidence": 0.9, "horizon_bars": 1, "justification": "x"}', "schema"),
        ('{"decision": "LONG", "confidence": 1.5, "horizon_bars": 1, "justification": "x"}', "schema"),
        ('{"decision": "LONG"}', "schema"),
        (
            '{"decision": "LONG", "confidence": 0.5, "horizon_bars": 1, "justification": "x", "run": "rm"}',
            "schema",
        ),
    ],
)
def test_unusable_reply_is_abstain_with_reason(windows: list[Window], reply: str, reason: str) -> None:
    [d] = decide(windows[:1], BackendCaller(ScriptedBackend([reply])), "m", CallCache(None))
    assert d.decision == "ABSTAIN" and (d.reason == reason or (reason == "json" and "json" in d.reason))
    assert d.stop is None and d.size is None  # never a default direction, never a position


def test_backend_failure_is_abstain_and_the_run_goes_on(windows: list[Window]) -> None:
    be = ScriptedBackend([TransientError("server down"), good("LONG")])
    ds = decide(windows[:2], BackendCaller(be), "m", CallCache(None))
    assert [d.decision for d in ds] == ["ABSTAIN", "LONG"]
    assert ds[0].reason == "backend_error" and "server down" in ds[0].justification


def test_model_abstain_is_kept_with_its_reason(windows: list[Window]) -> None:
    [d] = decide(windows[:1], BackendCaller(ScriptedBackend([good("ABSTAIN")])), "m", CallCache(None))
    assert d.decision == "ABSTAIN" and d.reason == "model_abstained" and d.size is None


def test_calls_are_cached_by_window_prompt_version_and_model(windows: list[Window], tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = CallCache(tmp_path / "c.sqlite")
    be = ScriptedBackend([good("LONG")])
    first = decide(windows[:3], BackendCaller(be), "m", cache)
    assert len(be.seen) == 3 and not any(d.cached for d in first)
    again = decide(windows[:3], BackendCaller(be), "m", cache)
    assert len(be.seen) == 3 and all(d.cached for d in again)
    assert [d.decision for d in again] == [d.decision for d in first]
    decide(windows[:1], BackendCaller(be), "other-model", cache)
    assert len(be.seen) == 4
    k = call_key(windows[0].digest(), "v1", "m", {})
    assert k != call_key(windows[0].digest(), "v2", "m", {})
    assert len(cache) == 4
    cache.close()


def test_failed_calls_are_not_cached(windows: list[Window]) -> None:
    cache = CallCache(None)
    be = ScriptedBackend([TransientError("down")])
    decide(windows[:1], BackendCaller(be), "m", cache)
    assert len(cache) == 0


def test_rules_only_decides_from_the_same_tools(windows: list[Window]) -> None:
    for w in windows:
        d = rules_only(w)
        assert d.decision in ("LONG", "SHORT", "ABSTAIN")
        if d.decision != "ABSTAIN":
            assert d.size is not None and 0 < d.size <= 1.0


def test_schema_is_closed() -> None:
    s = prompts.DECISION_SCHEMA
    assert s["additionalProperties"] is False
    assert s["properties"]["decision"]["enum"] == ["LONG", "SHORT", "ABSTAIN"]
    json.dumps(s)
