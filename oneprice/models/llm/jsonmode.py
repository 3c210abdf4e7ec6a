"""JSON output for agents: validate and repair, since near-tie flips can break JSON.

``chat_json`` asks for JSON, extracts the first JSON value from the reply, repairs common damage
(code fences, trailing commas, unclosed brackets or strings, cut-off output), validates it against an
optional JSON Schema and, when that fails, asks again with the error quoted, greedily.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import jsonschema

from oneprice.core.errors import ParseError
from oneprice.models.llm.backends import ChatBackend, Messages
from oneprice.models.llm.sampling import SamplingParams


def extract_json(text: str) -> Any:
    """The first JSON object or array in text, repaired where it is damaged; raises ParseError."""
    text = re.sub(r"```(?:json)?", "", text)
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise ParseError("no_json", "no JSON object or array in the reply")
    body = text[min(starts) :]
    try:
        value, _ = json.JSONDecoder().raw_decode(body)
        return value
    except json.JSONDecodeError:
        pass
    fixed = repair(body)
    try:
        value, _ = json.JSONDecoder().raw_decode(fixed)
        return value
    except json.JSONDecodeError as exc:
        raise ParseError("invalid_json", f"invalid even after repair: {exc}") from exc


def repair(body: str) -> str:
    """Close unbalanced strings and brackets (cut-off output) and drop trailing commas."""
    out: list[str] = []
    stack: list[str] = []
    in_str = escaped = False
    for ch in body:
        out.append(ch)
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                out.pop()
                break
            stack.pop()
            if not stack:
                break
    s = "".join(out)
    if in_str:
        s += '"'
    s = re.sub(r"[,:]\s*$", "", s.rstrip())
    s += "".join(reversed(stack))
    return re.sub(r",\s*([}\]])", r"\1", s)


def validate(value: Any, schema: dict[str, Any] | None) -> None:
    if schema is None:
        return
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        raise ParseError("schema", f"JSON does not match the schema: {exc.message}") from exc


def chat_json(
    backend: ChatBackend,
    messages: Messages,
    schema: dict[str, Any] | None = None,
    params: SamplingParams | None = None,
    retries: int = 2,
) -> Any:
    """Chat until the reply parses (and matches schema); raises ParseError after ``retries`` re-asks."""
    params = params or SamplingParams(max_new_tokens=512)
    ask = "Answer with JSON only, no prose."
    if schema is not None:
        ask += f" It must match this JSON Schema: {json.dumps(schema)}"
    convo = [*messages[:-1], {**messages[-1], "content": messages[-1]["content"] + "\n\n" + ask}]
    last: ParseError | None = None
    for attempt in range(retries + 1):
        reply = backend.chat(convo, params if attempt == 0 else replace(params, temperature=0.0))
        try:
            value = extract_json(reply.text)
            validate(value, schema)
            return value
        except ParseError as exc:
            last = exc
            fix = f"That reply was not usable: {exc}. Reply again with the corrected JSON only."
            convo = [*convo, {"role": "assistant", "content": reply.text}, {"role": "user", "content": fix}]
    assert last is not None
    raise last
