"""Validate-and-repair JSON mode."""

from __future__ import annotations

import pytest

from oneprice.core.errors import ParseError
from oneprice.models.llm.backends import ChatResult
from oneprice.models.llm.jsonmode import chat_json, extract_json

SCHEMA = {
    "type": "object",
    "properties": {"action": {"enum": ["buy", "sell", "hold"]}, "size": {"type": "number"}},
    "required": ["action", "size"],
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('Sure! ```json\n{"a": 1, "b": [1, 2,]}\n``` done', {"a": 1, "b": [1, 2]}),
        ('{"action": "buy", "note": "cut off', {"action": "buy", "note": "cut off"}),
        ('[{"t": 1}, {"t": 2', [{"t": 1}, {"t": 2}]),
        ('{"x": {"y": 1}} trailing {"z": 2}', {"x": {"y": 1}}),
    ],
)
def test_extract_and_repair(text: str, value: object) -> None:
    assert extract_json(text) == value


def test_no_json_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        extract_json("no json here")


class Scripted:
    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.seen: list[list[dict[str, str]]] = []

    def chat(self, messages, params):  # type: ignore[no-untyped-def]
        self.seen.append(messages)
        return ChatResult(self.replies.pop(0), "stop", 1, 1)

    def stream(self, messages, params):  # type: ignore[no-untyped-def]
        yield self.chat(messages, params).text


def test_schema_failure_is_re_asked_with_the_error() -> None:
    b = Scripted(['{"action": "moon", "size": 1}', '{"action": "hold", "size": 0}'])
    assert chat_json(b, [{"role": "user", "content": "decide"}], SCHEMA) == {"action": "hold", "size": 0}
    assert "schema" in b.seen[1][-1]["content"]


def test_gives_up_after_retries() -> None:
    b = Scripted(["nope", "still nope"])
    with pytest.raises(ParseError):
        chat_json(b, [{"role": "user", "content": "decide"}], SCHEMA, retries=1)
