"""The Decision agent's prompt: a fixed head (prefix-cacheable), a short per-window turn, a short reply."""

from __future__ import annotations

import json

import pytest

from oneprice.agents import prompts
from oneprice.agents.analysts import analyse
from oneprice.agents.cache import CallCache
from oneprice.agents.callers import BackendCaller
from oneprice.agents.pipeline import _quotes, decide
from oneprice.agents.window import Window
from oneprice.models.llm.jsonmode import validate
from tests.agents.conftest import ScriptedBackend


def _msgs(w: Window) -> list[dict[str, str]]:
    return prompts.decision_messages(analyse(w).text(), w.symbol, w.timeframe, len(w))


def test_every_window_shares_the_head_and_adds_one_short_turn(windows: list[Window]) -> None:
    head = prompts.head_messages()
    users = []
    for w in windows:
        m = _msgs(w)
        assert m[:-1] == head and m[-1]["role"] == "user"
        users.append(m[-1]["content"])
    assert len(set(users)) == len(windows)  # the window's own part differs
    assert max(len(u) for u in users) < 600  # reports compact: the per-window prefill is short
    assert all(u.count("\n") == 3 for u in users)  # the data line and one line per analyst


def test_reports_lead_with_each_analysts_view(windows: list[Window]) -> None:
    a = analyse(windows[0])
    lines = a.text().splitlines()
    for line, r in zip(lines, a.reports, strict=True):
        assert line.startswith(f"[{r.role}] ")
        assert line == f"[{r.role}] none" or line.startswith(f"[{r.role}] {r.view}: ")
        assert r.view == {1: "bullish", -1: "bearish", 0: "neutral"}[r.vote]


def test_examples_are_valid_replies_that_quote_their_reports() -> None:
    seen = set()
    for user, reply in prompts.EXAMPLES:
        value = json.loads(reply)
        validate(value, prompts.DECISION_SCHEMA)
        assert list(value) == list(prompts.DECISION_SCHEMA["properties"])  # the schema's key order
        assert _quotes(value["justification"], user)
        seen.add(value["decision"])
    assert seen == {"LONG", "SHORT"}  # both directions shown, so neither is the only example


def test_reply_is_capped_and_the_evidence_comes_first() -> None:
    props = prompts.DECISION_SCHEMA["properties"]
    assert next(iter(props)) == "justification"
    assert props["justification"]["maxLength"] == prompts.JUSTIFICATION_MAX <= 100


@pytest.mark.parametrize(
    ("justification", "quotes"),
    [
        ("indicator bearish: RSI 38 falling", True),  # a number of the reports
        ("pattern bullish: double bottom", True),  # a pattern of the reports
        ("RSI and MACD agree", False),  # names, no evidence
        ("RSI 77 overbought", False),  # a number the reports do not hold
    ],
)
def test_quotes_evidence_needs_the_reports_own_facts(justification: str, quotes: bool) -> None:
    reports = (
        "[indicator] bearish: RSI 38 falling, MACD hist -12.5\n"
        "[pattern] bullish: double bottom (bullish) bars 70,88\n[trend] neutral: slope +0.01%/bar"
    )
    assert _quotes(justification, reports) is quotes


def test_justification_first_reply_with_a_brace_parses(windows: list[Window]) -> None:
    reply = (
        '{"justification": "trend bearish: slope -0.05%/bar } still", "decision": "SHORT", '
        '"confidence": 0.6, "horizon_bars": 2}'
    )
    [d] = decide(windows[:1], BackendCaller(ScriptedBackend([reply])), "m", CallCache(None))
    assert d.decision == "SHORT" and d.horizon_bars == 2 and d.justification.endswith("} still")


def test_a_reply_cut_short_is_abstain_not_a_direction(windows: list[Window]) -> None:
    cut = '{"justification": "trend bearish: slope -0.05%/bar", "decision": "SHO'
    [d] = decide(windows[:1], BackendCaller(ScriptedBackend([cut])), "m", CallCache(None))
    assert d.decision == "ABSTAIN" and d.reason == "invalid_json" and d.size is None
