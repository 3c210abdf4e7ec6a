"""Chat backends with one interface: our engine in-process, or any OpenAI-compatible server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from oneprice.core.errors import PermanentError, TransientError
from oneprice.models.llm.engine import Engine
from oneprice.models.llm.sampling import SamplingParams

Messages = list[dict[str, str]]


@dataclass
class ChatResult:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


class ChatBackend(Protocol):
    def chat(self, messages: Messages, params: SamplingParams) -> ChatResult: ...

    def stream(self, messages: Messages, params: SamplingParams) -> Iterator[str]: ...


class LocalBackend:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def chat(self, messages: Messages, params: SamplingParams) -> ChatResult:
        c = self.engine.generate(self.engine.encode_chat(messages), params)
        return ChatResult(c.text, c.finish_reason, c.prompt_tokens, len(c.token_ids))

    def stream(self, messages: Messages, params: SamplingParams) -> Iterator[str]:
        for chunk in self.engine.stream(self.engine.encode_chat(messages), params):
            if chunk.text:
                yield chunk.text


def response_format(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's ``response_format`` for a JSON Schema ({} asks for any JSON object)."""
    if not schema:
        return {"type": "json_object"}
    name = str(schema.get("title") or "output")
    name = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)[:64]
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


class OpenAIBackend:
    """Client for /v1/chat/completions (vLLM, llama.cpp server, Ollama, OpenAI, ``oneprice llm serve``)."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 120.0
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)
        self.model = model

    def _body(self, messages: Messages, params: SamplingParams, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": stream,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if params.json_schema is not None:
            body["response_format"] = response_format(params.json_schema)
        if params.regex is not None:
            body["guided_regex"] = params.regex  # vLLM's name; ``oneprice llm serve`` honours it too
        return body

    @staticmethod
    def _check(r: httpx.Response) -> None:
        if r.status_code >= 500 or r.status_code == 429:
            raise TransientError(f"LLM server answered {r.status_code}: {r.text[:200]}")
        if r.status_code >= 400:
            raise PermanentError(f"LLM server answered {r.status_code}: {r.text[:200]}")

    def models(self) -> list[str]:
        r = self.client.get("/models")
        self._check(r)
        return [m["id"] for m in r.json()["data"]]

    def chat(self, messages: Messages, params: SamplingParams) -> ChatResult:
        try:
            r = self.client.post("/chat/completions", json=self._body(messages, params, False))
        except httpx.TransportError as exc:
            raise TransientError(f"LLM server unreachable: {exc}") from exc
        self._check(r)
        data = r.json()
        choice = data["choices"][0]
        usage = data.get("usage") or {}
        return ChatResult(
            choice["message"].get("content") or "",
            choice.get("finish_reason") or "stop",
            int(usage.get("prompt_tokens", 0)),
            int(usage.get("completion_tokens", 0)),
        )

    def stream(self, messages: Messages, params: SamplingParams) -> Iterator[str]:
        try:
            with self.client.stream(
                "POST", "/chat/completions", json=self._body(messages, params, True)
            ) as r:
                if r.status_code >= 400:
                    r.read()
                    self._check(r)
                for line in r.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    delta = json.loads(payload)["choices"][0].get("delta", {})
                    if delta.get("content"):
                        yield delta["content"]
        except httpx.TransportError as exc:
            raise TransientError(f"LLM server unreachable: {exc}") from exc
