"""Structured output by construction: the grammar mask, its composition with speculation, JSON mode."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from oneprice.core.errors import ConfigError, ParseError
from oneprice.models.llm.backends import ChatResult, LocalBackend, OpenAIBackend
from oneprice.models.llm.controller import FixedController
from oneprice.models.llm.grammar import constraint_for, grammar_for
from oneprice.models.llm.jsonmode import chat_json, extract_json
from oneprice.models.llm.sampling import SamplingParams

DECISION = {
    "type": "object",
    "properties": {
        "action": {"enum": ["buy", "sell", "hold"]},
        "size": {"type": "number", "minimum": 0},
        "reason": {"type": "string", "maxLength": 40},
    },
    "required": ["action", "size", "reason"],
    "additionalProperties": False,
}
ASK = [
    {
        "role": "user",
        "content": "BTC/USDT 4h: RSI(14) 74.2, close 26144.0 above SMA(20) 25912.5. Decide and reply with "
        "JSON: action, size, reason.",
    }
]
METHODS = [("prompt_lookup", 6), ("token_recycling", 12), ("draft", 4)]


def _gen(engine, ids, method, k, params):  # type: ignore[no-untyped-def]
    engine.controller = None if method == "plain" else FixedController(k)
    try:
        return engine.generate(ids, params)
    finally:
        engine.controller = None


_PLAIN: dict[tuple[int, str], object] = {}


def _constrained_plain(engine, ids, params):  # type: ignore[no-untyped-def]
    """Constrained plain greedy decoding, decoded once per engine and request for every proposer's test."""
    key = (id(engine), repr((ids, params)))
    if key not in _PLAIN:
        _PLAIN[key] = _gen(engine, ids, "plain", 0, params)
    return _PLAIN[key]


def test_bad_schema_and_regex_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        grammar_for({"type": "object"}, "a+")
    with pytest.raises(ConfigError):
        grammar_for(regex="(unclosed")
    with pytest.raises(ConfigError):
        grammar_for({"type": "no-such-type"})


def test_mask_forbids_what_the_schema_forbids(smollm2) -> None:  # type: ignore[no-untyped-def]
    c = constraint_for(smollm2, DECISION, None)
    assert c is not None
    allowed = c.allowed()
    words = {smollm2.tokenizer.decode([i]) for i in allowed.nonzero()[0]}
    assert words and all(w.startswith("{") for w in words)  # a JSON object must open first
    for tok in smollm2.encode('{"action": "'):
        c.advance(tok)
    nxt = {smollm2.tokenizer.decode([i]) for i in c.allowed().nonzero()[0]}
    assert all(any(a.startswith(w) for a in ("buy", "sell", "hold")) for w in nxt)
    with pytest.raises(RuntimeError):
        c.advance(smollm2.encode("xyz")[0])


@pytest.mark.parametrize(("method", "k"), METHODS)
def test_constrained_speculation_equals_constrained_plain(smollm2, method: str, k: int) -> None:  # type: ignore[no-untyped-def]
    ids = smollm2.encode_chat(ASK)
    params = SamplingParams(max_new_tokens=100, method="plain", json_schema=DECISION)
    plain = _constrained_plain(smollm2, ids, params)
    assert plain.finish_reason == "stop"
    value = json.loads(plain.text)
    jsonschema.validate(value, DECISION)
    spec = _gen(smollm2, ids, method, k, SamplingParams(**{**vars(params), "method": method}))
    assert spec.metrics.drafts > 0, "the proposer never drafted: the test would prove nothing"
    assert spec.token_ids == plain.token_ids and spec.text == plain.text


def test_drafted_tokens_that_break_the_grammar_are_rejected(smollm2) -> None:  # type: ignore[no-untyped-def]
    """Prompt lookup drafts the prompt's prose; the grammar admits none of it after '{'."""
    ids = smollm2.encode_chat([{"role": "user", "content": "Repeat exactly: hold hold hold hold hold"}])
    params = SamplingParams(max_new_tokens=40, method="prompt_lookup", regex=r"(buy|sell) [0-9]{1,3}")
    out = _gen(smollm2, ids, "prompt_lookup", 6, params)
    assert re.fullmatch(r"(buy|sell) [0-9]{1,3}", out.text), out.text
    plain = _gen(smollm2, ids, "plain", 0, SamplingParams(**{**vars(params), "method": "plain"}))
    assert out.token_ids == plain.token_ids


def test_seeded_constrained_sampling_is_valid_and_reproducible(smollm2) -> None:  # type: ignore[no-untyped-def]
    ids = smollm2.encode_chat(ASK)
    params = SamplingParams(max_new_tokens=100, temperature=0.9, seed=7, method="draft", json_schema=DECISION)
    a = _gen(smollm2, ids, "draft", 3, params)
    b = _gen(smollm2, ids, "draft", 3, params)
    assert a.token_ids == b.token_ids
    if a.finish_reason == "stop":
        jsonschema.validate(json.loads(a.text), DECISION)


def test_chat_json_through_the_local_backend(smollm2) -> None:  # type: ignore[no-untyped-def]
    value = chat_json(
        LocalBackend(smollm2), ASK, DECISION, SamplingParams(max_new_tokens=100, method="plain")
    )
    jsonschema.validate(value, DECISION)


class Scripted:
    def __init__(self, reply: str, reason: str = "stop") -> None:
        self.reply, self.reason = reply, reason
        self.params: list[SamplingParams] = []

    def chat(self, messages, params):  # type: ignore[no-untyped-def]
        self.params.append(params)
        return ChatResult(self.reply, self.reason, 1, 1)

    def stream(self, messages, params):  # type: ignore[no-untyped-def]
        yield self.chat(messages, params).text


def test_chat_json_asks_by_schema_and_only_validates() -> None:
    b = Scripted('{"action": "hold", "size": 0, "reason": "flat"}')
    assert chat_json(b, ASK, DECISION)["action"] == "hold"
    assert b.params[0].json_schema == DECISION
    with pytest.raises(ParseError, match="schema"):
        chat_json(Scripted('{"action": "moon", "size": 1, "reason": ""}'), ASK, DECISION)
    with pytest.raises(ParseError, match="cut off"):
        chat_json(Scripted('{"action": "ho', "length"), ASK, DECISION)
    assert Scripted("{}").params == [] and chat_json(Scripted("{}"), ASK) == {}


@pytest.mark.parametrize(
    ("text", "value"),
    [('```json\n{"a": 1}\n```', {"a": 1}), (" [1, 2] ", [1, 2]), ('{"x": {"y": null}}', {"x": {"y": None}})],
)
def test_extract_json_parses_strictly(text: str, value: object) -> None:
    assert extract_json(text) == value


@pytest.mark.parametrize("text", ["", "no json", '{"a": 1,}', '{"a": 1} and more'])
def test_extract_json_never_repairs(text: str) -> None:
    with pytest.raises(ParseError):
        extract_json(text)


def test_openai_backend_sends_response_format() -> None:
    b = OpenAIBackend("http://127.0.0.1:9/v1", "m")
    body = b._body(ASK, SamplingParams(json_schema={}), False)
    assert body["response_format"] == {"type": "json_object"}
    body = b._body(ASK, SamplingParams(json_schema=DECISION), False)
    rf = body["response_format"]
    assert (
        rf["type"] == "json_schema" and rf["json_schema"]["schema"] == DECISION and rf["json_schema"]["name"]
    )
    assert "response_format" not in b._body(ASK, SamplingParams(), False)
    assert b._body(ASK, SamplingParams(regex="a+"), False)["guided_regex"] == "a+"
