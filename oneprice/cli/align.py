"""``oneprice align``: train the relation model, align markets, evaluate, review matches."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from oneprice.cli import lazy_module, services
from oneprice.services.results import to_json

if TYPE_CHECKING:
    from oneprice.services.alignment import AlignEval

alignment = lazy_module("oneprice.services.alignment")

console = Console()


class Status(StrEnum):
    proposed = "proposed"
    confirmed = "confirmed"
    rejected = "rejected"


class Decision(StrEnum):
    confirmed = "confirmed"
    rejected = "rejected"


def _print_eval(res: AlignEval) -> None:
    t = Table(title=f"hedgeable (equivalent + inverse, right outcome map), n={res.n}")
    for c in ("method", "precision", "recall", "f1"):
        t.add_column(c)
    rows = [("model", res.model.hedgeable)] + [(k, v.hedgeable) for k, v in res.baselines.items()]
    for name, m in rows:
        t.add_row(name, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}")
    console.print(t)
    if cal := res.calibration:
        c = Table(title=f"P(same proposition): Brier {cal.brier:.4f} (base rate {cal.base_rate:.3f})")
        for col in ("bin", "pairs", "mean P(same)", "share same"):
            c.add_column(col)
        for row in cal.reliability:
            c.add_row(row.bin, str(row.n), f"{row.mean_p:.3f}", f"{row.observed:.3f}")
        console.print(c)
    r = Table(title="model, per relation")
    for c in ("relation", "precision", "recall", "f1"):
        r.add_column(c)
    for rel, m in res.model.relations.items():
        r.add_row(rel, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}")
    console.print(r)
    cm = Table(title="confusion matrix (rows: truth, columns: predicted)")
    cm.add_column("truth \\ pred")
    relations = list(res.confusion)
    short = {
        rel: rel.replace("mutually_exclusive", "exclusive").replace("_implies_", "→") for rel in relations
    }
    for rel in relations:
        cm.add_column(short[rel], justify="right")
    for rel in relations:
        cm.add_row(short[rel], *[str(res.confusion[rel][p]) for p in relations])
    console.print(cm)


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Cross-venue market alignment.", no_args_is_help=True)

    @sub.command("train")
    def train() -> None:
        """Train on the shipped labels plus confirmed/rejected matches in the database."""
        with console.status("training the alignment model on the labeled pairs (a few minutes)"):
            res = alignment.train(services())
        console.print(
            f"trained {res.model_version} on {res.pairs} pairs ({res.review_pairs} from reviews), "
            f"hedge threshold {res.hedge_threshold}, in {res.seconds}s -> {res.path}"
        )

    @sub.command("run")
    def run(
        as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    ) -> None:
        """Align the database's markets across venues; store proposals for review."""
        res = alignment.run(services(), progress=None if as_json else lambda m: console.print(m))
        if as_json:
            print(json.dumps(to_json(res)))
            return
        console.print(
            f"{res.markets} markets {res.venues}: {res.candidates} candidates, {res.scored} scored, "
            f"{res.proposed} proposed ({res.hedgeable} hedgeable) {res.by_relation}; "
            f"new {res.inserted}, updated {res.updated}, unchanged {res.unchanged}, "
            f"withdrawn {res.withdrawn}, human decisions kept {res.kept_decided}; {res.seconds}s {res.stages}"
        )

    @sub.command("eval")
    def evaluate(
        labels: Path = typer.Option(None, "--labels", exists=True, dir_okay=False, help="Labeled pairs CSV."),
        cv: bool = typer.Option(False, "--cv", help="Grouped cross-validation on the training labels."),
        folds: int = typer.Option(5, min=2, help="Folds for --cv."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Precision/recall/F1 per relation and for hedgeable pairs, beside fuzzy and cosine baselines."""
        if (labels is None) == (not cv):
            raise typer.BadParameter("give exactly one of --labels FILE or --cv")
        svc = services()
        if not as_json:
            console.print("training on the other labeled pairs, then scoring (a few minutes)")
        res = alignment.evaluate(svc, labels, cv=cv, folds=folds)
        if as_json:
            keep = ("model", "baselines", "calibration", "n", "train_pairs")
            body = to_json(res)
            print(json.dumps({k: body[k] for k in keep if k in body}))
        else:
            _print_eval(res)

    @sub.command("list")
    def list_(
        status: Status = typer.Option(None, help="Review status."),
        min_confidence: float = typer.Option(0.0, min=0.0, max=1.0),
        hedgeable: bool = typer.Option(False, help="Only equivalent and inverse pairs."),
        limit: int = typer.Option(50, min=1),
    ) -> None:
        """List stored matches."""
        rels = ["equivalent", "inverse"] if hedgeable else None
        t = Table()
        for c in ("id", "relation", "status", "conf", "A", "B"):
            t.add_column(c)
        for m in alignment.list_matches(
            services(), status.value if status else None, min_confidence, rels, limit
        ):
            a, b = m.market_a, m.market_b
            t.add_row(
                str(m.id),
                m.relation,
                m.status,
                f"{m.confidence:.2f}",
                f"{a.venue}:{a.external_id} {a.question}",
                f"{b.venue}:{b.external_id} {b.question}",
            )
        console.print(t)

    @sub.command("decide")
    def decide(
        match_id: int,
        decision: Decision = typer.Argument(..., help="The review decision."),
        by: str = typer.Option("user"),
    ) -> None:
        """Confirm or reject a match; decisions are kept across runs and feed training."""
        alignment.decide_match(services(), match_id, decision.value, by)
        console.print(f"match {match_id}: {decision.value}")

    app.add_typer(sub, name="align")
