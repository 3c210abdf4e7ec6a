"""``oneprice agents``: QuantAgent-style decisions on bar windows (no torch import until a command runs)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from oneprice.cli import services


def _passive_threads() -> None:
    """OpenMP threads that wait sleep instead of spinning; set before torch loads (a user's value is kept).

    On a host other processes share, spinning threads burn the time slices the work needs: decoding
    SmolLM2-135M on 2 cores at load 4 measured 0.8-3.3 s/token spinning, 0.13 s/token passive.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="QuantAgent-style multi-agent trade signals on bar windows.", no_args_is_help=True)

    @sub.command("predict")
    def predict(
        windows: Path = typer.Option(
            ..., "--windows", help="Folder of window CSVs (Datetime,Close,High,Low,Open,Volume)."
        ),
        out: Path = typer.Option(
            ..., "--out", help="Output CSV: window,decision,confidence,stop,target,size,justification."
        ),
        manifest: Path = typer.Option(
            None, "--manifest", help="CSV window,symbol,timeframe naming each file's instrument."
        ),
        model: str = typer.Option(
            None, "--model", help="LLM (registry name, path or hub name); default ONEPRICE_LLM_MODEL."
        ),
        batch: int = typer.Option(
            16, "--batch", min=1, help="Windows decoded together (1: one by one, speculative)."
        ),
        method: str = typer.Option(
            None, "--method", help="auto | plain | prompt_lookup | token_recycling | draft"
        ),
        signals: bool = typer.Option(
            False, "--signals", help="Also write the decisions to the signals table."
        ),
        rules: bool = typer.Option(False, "--rules", help="No LLM: the rules vote of the same tools."),
        threads: int = typer.Option(None, "--threads", min=1, help="CPU threads of the local engine."),
    ) -> None:
        """Decide LONG / SHORT / ABSTAIN for every window, with an ATR stop, target and size."""
        _passive_threads()
        from oneprice.core.errors import OnePriceError
        from oneprice.services import agents

        try:
            rep = agents.predict(
                services(), windows, out, manifest, model, batch, method, signals, rules, threads
            )
        except (OnePriceError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        n = len(rep.decisions)
        counts = {k: sum(d.decision == k for d in rep.decisions) for k in ("LONG", "SHORT", "ABSTAIN")}
        typer.echo(
            f"{n} windows in {rep.seconds:.1f}s ({60 * n / max(rep.seconds, 1e-9):.1f}/min): {counts}; "
            f"llm calls {rep.llm_calls}; unreadable {rep.rejects or 0}; "
            f"signals {rep.signals_written}; -> {out}"
        )

    @sub.command("eval")
    def evaluate(
        data: Path = typer.Option(..., "--data", help="QuantAgent benchmark folder (<tf>/<asset>/*.csv)."),
        per_asset: int = typer.Option(5, "--per-asset", help="Windows per asset sent to the LLM (0: all)."),
        timeframe: list[str] = typer.Option(["4h", "1h"], "--timeframe"),
        model: str = typer.Option(None, "--model"),
        fee: float = typer.Option(0.001, "--fee", help="Taker fee per leg, fraction of notional."),
    ) -> None:
        """Score agents, rules-only and baselines on next-bar direction (Wilson 95% intervals)."""
        _passive_threads()
        from oneprice.core.errors import OnePriceError
        from oneprice.services import agents

        if not data.is_dir():
            typer.echo(f"error: {data} is not a directory", err=True)
            raise typer.Exit(2)
        try:
            res = agents.evaluate(services(), data, tuple(timeframe), per_asset or None, model=model, fee=fee)
        except (OnePriceError, OSError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        from oneprice.services.results import to_json

        typer.echo(json.dumps(to_json(res)))

    app.add_typer(sub, name="agents")
