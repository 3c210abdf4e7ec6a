"""JSON replies for agents: ask for JSON under a schema, then parse and validate.

Structured output is produced by construction: ``chat_json`` sets ``SamplingParams.json_schema``, so
the local engine masks every token the schema forbids and an OpenAI-compatible server gets
``response_format``. What comes back is only parsed and validated here, never repaired or re-asked: a
reply that does not parse (cut off at ``max_new_tokens``, or a remote server that ignores
``response_format``) is a ``ParseError`` naming the reason.
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
    """The JSON value text holds (a Markdown fence around it is tolerated); raises ParseError."""
    body = text.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", body, flags=re.S)
    if fenced:
        body = fenced.group(1)
    if not body or (
        not any(c in body for c in '{["') and not body[0].isdigit() and body not in ("true", "false", "null")
    ):
        raise ParseError("no_json", "no JSON value in the reply")
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ParseError("invalid_json", f"reply is not JSON: {exc}") from exc


def validate(value: Any, schema: dict[str, Any] | None) -> None:
    if not schema:
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
) -> Any:
    """One constrained chat; returns the parsed value, or raises ParseError (cut off, invalid)."""
    params = replace(params or SamplingParams(max_new_tokens=512), json_schema=schema or {}, regex=None)
    reply = backend.chat(messages, params)
    try:
        value = extract_json(reply.text)
    except ParseError as exc:
        if reply.finish_reason == "length":
            raise ParseError("truncated", f"reply cut off at {params.max_new_tokens} tokens") from exc
        raise
    validate(value, schema)
    return value
