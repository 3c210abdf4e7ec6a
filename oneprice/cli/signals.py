"""``oneprice signals sentiment | list | prebit build|train|eval|predict``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from oneprice.cli import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_USAGE, fail, lazy_module, services
from oneprice.core.errors import ConfigError, InputError, NotFoundError, OnePriceError, ParseError
from oneprice.services.results import to_json

svc_mod = lazy_module("oneprice.services.signals")
console = Console()


def _services() -> Any:
    return services()


def _fail(exc: Exception) -> None:
    """One line on stderr; exit 3 for a missing input, 2 for a bad one, 1 otherwise."""
    if isinstance(exc, NotFoundError | FileNotFoundError):
        code = EXIT_NOT_FOUND
    elif isinstance(exc, ConfigError | ParseError | ValueError):
        code = EXIT_USAGE
    else:
        code = EXIT_FAILED
    raise fail(str(exc), code) from None


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for it in items or []:
        for part in it.split(","):
            if "=" not in part:
                raise typer.BadParameter(f"{what}: expected NAME=VALUE, not {part!r}")
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def _confusion(name: str, m: Any) -> None:
    speed = f", {m.texts_per_s} texts/s" if m.texts_per_s is not None else ""
    t = Table(title=f"{name}: accuracy {m.accuracy:.4f}, macro-F1 {m.macro_f1:.4f}, n={m.n}{speed}")
    t.add_column("true \\ predicted")
    for lab in m.labels:
        t.add_column(lab, justify="right")
    for lab, row in zip(m.labels, m.confusion, strict=True):
        t.add_row(lab, *map(str, row))
    console.print(t)


def register(app: typer.Typer) -> None:
    sub = typer.Typer(
        help="Signals: financial sentiment and the PreBit-style extreme-move model.", no_args_is_help=True
    )
    prebit = typer.Typer(
        help="PreBit-style extreme BTC moves: build, train, eval, predict.", no_args_is_help=True
    )

    @sub.command("sentiment")
    def sentiment(
        in_path: Path = typer.Option(..., "--in", help="CSV or Parquet of texts."),
        out_path: Path = typer.Option(..., "--out", help="CSV or Parquet to write (by suffix)."),
        text_column: str = typer.Option("text", help="Column holding the texts."),
        model: str = typer.Option(
            "bundled", help="bundled | minilm-linear | a trained model dir | a Hugging Face classifier."
        ),
        batch_size: int = typer.Option(512, min=1),
        label_column: str = typer.Option(None, help="Score against this column of true labels."),
        label_map: list[str] = typer.Option(
            None, help="Map label values, e.g. 0=bearish,1=bullish,2=neutral."
        ),
        compare: str = typer.Option(None, help="Also score this model against the labels, same run."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Label each text bearish / neutral / bullish, with probabilities and score = p_bull - p_bear."""
        with Progress(
            TextColumn("scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task("scoring", total=None)
            try:
                rep = svc_mod.sentiment_file(
                    _services(),
                    in_path,
                    out_path,
                    text_column,
                    model,
                    batch_size,
                    label_column,
                    _pairs(label_map, "--label-map"),
                    compare,
                    progress=lambda n: bar.advance(task, n),
                    on_start=lambda n: bar.update(task, total=n),
                )
            except (InputError, ConfigError):
                raise  # the root handler: one line, exit code 2
            except (OnePriceError, OSError, ValueError) as exc:
                _fail(exc)
        if as_json:
            print(json.dumps(to_json(rep)))
            return
        console.print(
            f"{rep.rows} rows -> {rep.out} ({rep.model}, {rep.texts_per_s} texts/s); "
            f"labels {rep.label_counts}"
        )
        for name, m in (rep.metrics or {}).items():
            _confusion(name, m)

    @sub.command("list")
    def list_cmd() -> None:
        """Stored signal series (source, key, count, span)."""
        t = Table("source", "key", "count", "first", "last")
        for r in svc_mod.list_signals(_services()):
            t.add_row(r.source, r.key, str(r.count), str(r.first), str(r.last))
        console.print(t)

    @prebit.command("build")
    def build(
        out: Path = typer.Option(..., help="Dataset file to write (.parquet or .csv)."),
        btc: Path = typer.Option(None, help="Daily BTC bars file; default: the bars table (--symbol, 1d)."),
        asset: list[str] = typer.Option(
            None, help="NAME=FILE of a correlated asset's daily bars (repeatable)."
        ),
        tweets: Path = typer.Option(
            None, help="Tweets file (created_at_utc, text[, retweets_count, likes_count])."
        ),
        symbol: str = typer.Option("BTC/USD", help="Signals key (and the bars symbol without --btc)."),
        exchange: str = typer.Option("binance"),
        threshold: float = typer.Option(0.05, help="Extreme move: next-day high/low beyond +-threshold."),
        vol_k: float = typer.Option(1.5, help="Volatility-scaled labels: k x 30-day sigma."),
        model: str = typer.Option("bundled", help="Sentiment model for the tweets."),
        start: str = typer.Option(None),
        end: str = typer.Option(None),
        no_db: bool = typer.Option(False, "--no-db", help="Do not store the daily sentiment in signals."),
    ) -> None:
        """Build the daily dataset: TA-Lib indicators, assets, tweet sentiment and text, labels."""
        try:
            assets = {k: Path(v) for k, v in _pairs(asset, "--asset").items()}
            rep = svc_mod.prebit_build(
                _services(),
                out,
                btc,
                assets,
                tweets,
                symbol,
                exchange,
                threshold,
                vol_k,
                model,
                start,
                end,
                write_db=not no_db,
            )
        except (OnePriceError, OSError, ValueError) as exc:
            _fail(exc)
        console.print(json.dumps(to_json(rep), indent=1))

    @prebit.command("eval")
    def eval_cmd(
        data: Path = typer.Option(..., help="Dataset from `prebit build`."),
        train_days: int = typer.Option(365),
        step: int = typer.Option(30),
        fee: float = typer.Option(0.001),
        write_db: bool = typer.Option(False, "--write-db", help="Store the out-of-sample probabilities."),
        symbol: str = typer.Option("BTC/USD"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Walk-forward AUCs (indicators, text, fusion, placebo) and the trading rules after fees."""
        try:
            rep = svc_mod.prebit_eval(
                _services(), data, train_days, step, fee, write_db=write_db, symbol=symbol
            )
        except (OnePriceError, OSError, ValueError) as exc:
            _fail(exc)
        if as_json:
            print(json.dumps(svc_mod.prebit_numbers(to_json(rep))))
            return
        console.print(f"folds {rep.folds}, out-of-sample days {rep.oos_days} {rep.oos_span}")
        t = Table("task", *sorted(next(iter(rep.auc.values()))), title="AUC")
        for task, row in rep.auc.items():
            t.add_row(task, *(f"{row[k]:.3f}" if row[k] is not None else "n/a" for k in sorted(row)))
        console.print(t)
        tr = rep.trading
        t = Table("strategy", "trades", "return", "sharpe", "max drawdown", title=f"after fees ({fee:g})")
        rows = list(tr.baselines.items())
        rows += [(f"{rule} {theta}", r) for rule, by in tr.rules.items() for theta, r in by.items()]
        for name, r in rows:
            t.add_row(
                name,
                str(r.trade_count),
                f"{r.total_return:.2%}",
                str(r.sharpe),
                f"{r.max_drawdown:.2%}",
            )
        console.print(t)

    @prebit.command("train")
    def train_cmd(
        data: Path = typer.Option(..., help="Dataset from `prebit build`."),
        out: Path = typer.Option(..., help="Model file to write (joblib)."),
        kind: str = typer.Option("fusion", help="ta_only | text_only | fusion"),
        train_days: int = typer.Option(365, help="Train on the last N labeled days (0: all)."),
    ) -> None:
        """Fit the extreme-up and extreme-down models on the latest days."""
        try:
            rep = svc_mod.prebit_train(_services(), data, out, kind, train_days or None)
        except (OnePriceError, OSError, ValueError) as exc:
            _fail(exc)
        console.print(json.dumps(to_json(rep), indent=1))

    @prebit.command("predict")
    def predict_cmd(
        data: Path = typer.Option(..., help="Dataset from `prebit build`."),
        model: Path = typer.Option(..., help="Model file from `prebit train`."),
        out: Path = typer.Option(None, help="Write the probabilities here too."),
        last: int = typer.Option(None, help="Only the last N days."),
        symbol: str = typer.Option("BTC/USD"),
        no_db: bool = typer.Option(False, "--no-db", help="Do not write to signals."),
    ) -> None:
        """P(extreme up) and P(extreme down) for the day after each row; stored as signals."""
        try:
            rep = svc_mod.prebit_predict(_services(), data, model, out, not no_db, symbol, last)
        except (OnePriceError, OSError, ValueError) as exc:
            _fail(exc)
        console.print(json.dumps(to_json(rep), indent=1))

    sub.add_typer(prebit, name="prebit")
    app.add_typer(sub, name="signals")
