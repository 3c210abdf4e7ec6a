"""``oneprice demo``: what ``make run`` runs."""

from __future__ import annotations

import typer
from rich.console import Console

from oneprice.cli import lazy_module, services
from oneprice.cli.arbitrage import print_scan, wide_console

demo_service = lazy_module("oneprice.services.demo")


def demo() -> None:
    """Ingest the bundled real snapshot, align the venues, scan for executable edges, print them."""
    con: Console = wide_console()
    svc = services()
    with con.status("working") as status:
        out = demo_service.run_demo(svc, say=lambda m: status.update(m))
    ing = out.ingest
    con.rule("1. ingest (bundled snapshot of 2025-02-11)")
    con.print(
        f"run {ing.run_id} [{ing.status}]: fetched {ing.fetched}, inserted {ing.inserted}, "
        f"updated {ing.updated}, rejected {ing.rejected}"
    )
    for reason, n in sorted(ing.rejects.items(), key=lambda kv: -kv[1]):
        con.print(f"  rejected {n} x {reason}")
    al = out.align
    con.rule("2. alignment")
    con.print(
        f"{al.markets} markets {al.venues}; {al.candidates} candidate pairs scored; "
        f"{al.proposed} proposed ({al.hedgeable} hedgeable) by relation {al.by_relation}; "
        f"{al.seconds}s{' (model trained first)' if al.trained else ''}"
    )
    con.rule("3. executable opportunities")
    print_scan(out.scan, con)
    if ing.status == "failed" or out.scan.error:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
