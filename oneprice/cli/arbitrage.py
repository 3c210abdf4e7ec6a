"""``oneprice scan`` (once or on a schedule) and ``oneprice deviations``; ``print_scan`` for reuse."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from oneprice.cli import lazy_module, services

if TYPE_CHECKING:
    from oneprice.services.arbitrage import DeviationSummary, ScanCandidate, ScanSummary

arb = lazy_module("oneprice.services.arbitrage")


class Source(StrEnum):
    live = "live"
    replay = "replay"


def parse_every(text: str) -> float:
    """'60s', '5m', '1h' or plain seconds."""
    mt = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text.lower())
    if not mt:
        raise typer.BadParameter(f"expected a period like 60s, 5m or 1h, not {text!r}")
    value = float(mt.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[mt.group(2)]
    if value <= 0:
        raise typer.BadParameter("the period must be positive")
    return value


def _d(x: Any, fmt: str = "{:.4f}") -> str:
    return "-" if x is None else fmt.format(float(x))


SHORT = {"kalshi": "K", "polymarket": "PM", "predictit": "PI", "manifold": "MF"}


def _legs(legs: list[dict[str, Any]]) -> str:
    return " + ".join(
        f"{SHORT.get(lg['venue'], lg['venue'])}:{lg['outcome']}@{_d(lg.get('avg_price'), '{:.3f}')}"
        for lg in legs
    )


def reason_counts(excluded: list[ScanCandidate]) -> dict[str, int]:
    """Excluded candidates per reason code (the text before the first colon)."""
    out: dict[str, int] = {}
    for e in excluded:
        code = (e.excluded_reason or "").split(":", 1)[0]
        out[code] = out.get(code, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def wide_console() -> Console:
    """A console at least 150 columns wide when output is not a terminal (logs, the demo, pipes)."""
    return Console() if Console().is_terminal else Console(width=150)


def print_scan(result: ScanSummary, console: Console | None = None, max_excluded: int = 20) -> None:
    """Opportunities (edge, size, fees, annualised return) and excluded candidates with reasons."""
    con = console or wide_console()
    opps, exc = result.opportunities, result.excluded
    con.print(
        f"scan run {result.run_id} ({result.source}): {result.status}; {result.pairs} pairs, "
        f"{result.books} books, {len(opps)} opportunities, {result.no_edge} without edge, "
        f"{len(exc)} excluded, {result.alerts} alerts; fetch {result.fetch_s:.2f}s, "
        f"total {result.total_s:.2f}s"
    )
    if result.error:
        con.print(f"[red]scan failed: {result.error}[/red]")
    for venue, err in sorted(result.venue_errors.items()):
        con.print(f"[yellow]venue {venue}: {err['count']} errors, e.g. {err['errors'][0]}[/yellow]")
    if opps:
        t = Table(title="Executable opportunities (per contract, after fees and depth)")
        for col in (
            "match",
            "kind",
            "pair",
            "legs",
            "size",
            "max",
            "edge $",
            "profit $",
            "fees $",
            "ann. ret",
            "risk-adj $",
            "age s",
            "status",
        ):
            t.add_column(col, overflow="fold")
        for o in opps:
            t.add_row(
                str(o.match_id),
                o.kind,
                o.pair[:70],
                _legs(o.legs),
                _d(o.size, "{:.0f}"),
                _d(o.max_size, "{:.0f}"),
                _d(o.edge),
                _d(o.profit, "{:.2f}"),
                _d(o.fees, "{:.2f}"),
                _d(o.annualized, "{:.1%}"),
                _d(o.risk_adjusted_edge),
                _d(o.book_age_s, "{:.0f}"),
                "clean" if o.clean else ", ".join(o.flags),
            )
        con.print(t)
        n_clean = sum(1 for o in opps if o.clean)
        con.print(
            f"{n_clean} clean (reviewed pair, decidable rules); {len(opps) - n_clean} flagged: unreviewed = "
            "no human confirmed the match; thin_rules = a venue's rules name no measure, source or tie "
            "rule; held_for_review = an edge far above the usual cross-venue deviation, not alerted"
        )
    else:
        con.print("no executable opportunity in this scan")
    if exc:
        counts = ", ".join(f"{k} {v}" for k, v in reason_counts(exc).items())
        t = Table(title=f"Excluded candidates ({len(exc)}: {counts})")
        for col in ("match", "pair", "reason"):
            t.add_column(col, overflow="fold")
        shown = sorted(exc, key=lambda e: (e.excluded_reason or "").startswith("missing_book"))  # rarer first
        for e in shown[:max_excluded]:
            t.add_row(str(e.match_id), e.pair[:60], e.excluded_reason)
        con.print(t)
        if len(exc) > max_excluded:
            con.print(f"... and {len(exc) - max_excluded} more excluded")


def print_summary(summary: DeviationSummary, console: Console | None = None) -> None:
    con = console or Console()
    t = Table(
        title=f"Deviation summary (persistent: mid gap > {summary.gap_threshold} in >= "
        f"{summary.persist_share:.0%} of observations)"
    )
    for col in (
        "group",
        "pairs",
        "obs",
        "persistent",
        "share",
        "mean mid deviation",
        "mean exec edge",
        "exec > 0",
    ):
        t.add_column(col)
    rows = [("all", summary.overall)]
    rows += [(f"venues {k}", v) for k, v in summary.by_venue_pair.items()]
    rows += [(f"category {k}", v) for k, v in summary.by_category.items()]
    for name, g in rows:
        t.add_row(
            name,
            str(g.pairs),
            str(g.observations),
            str(g.persistent_pairs),
            _d(g.share_persistent, "{:.1%}"),
            _d(g.mean_mid_gap),
            _d(g.mean_exec_deviation),
            _d(g.share_positive_exec, "{:.1%}"),
        )
    con.print(t)


def register(app: typer.Typer) -> None:
    @app.command("scan")
    def scan(
        once: bool = typer.Option(False, "--once", help="Run one scan and exit."),
        every: str = typer.Option(None, "--every", help="Scan on a schedule, e.g. 60s, 5m."),
        source: Source = typer.Option(
            "live", "--source", help="live (venue APIs) or replay (bundled snapshot)."
        ),
        runs: int = typer.Option(None, "--runs", min=1, help="With --every: stop after this many scans."),
        size: int = typer.Option(
            None, "--size", min=1, help="Contracts per complete set (default: settings)."
        ),
    ) -> None:
        """Scan matched pairs for executable arbitrage, persist the run and alert on news."""
        if once == (every is not None):
            raise typer.BadParameter("give exactly one of --once or --every")
        period = parse_every(every) if every is not None else 0.0
        con = wide_console()
        svc = services()
        if once:
            print_scan(arb.scan_once(svc, source.value, size=size), con)
            return
        con.print(f"scanning every {period:g}s from {source.value}; Ctrl-C stops")
        try:
            asyncio.run(
                arb.scan_forever(
                    svc,
                    period,
                    source.value,
                    max_runs=runs,
                    on_result=lambda r: print_scan(r, con),
                    size=size,
                )
            )
        except KeyboardInterrupt:
            con.print("stopped")

    @app.command("deviations")
    def deviations(
        match: int = typer.Option(None, "--match", help="Show the history of one matched pair."),
    ) -> None:
        """Deviation history of a pair, or the summary over every pair scanned."""
        con = wide_console()
        svc = services()
        if match is None:
            print_summary(arb.deviation_summary(svc), con)
            return
        t = Table(title=f"Deviation history of match {match}")
        for col in ("ts", "scan", "mid gap", "exec edge", "size"):
            t.add_column(col)
        for r in arb.deviation_history(svc, match):
            t.add_row(
                str(r.ts),
                str(r.scan_run_id),
                _d(r.mid_gap),
                _d(r.executable_edge),
                _d(r.edge_size or Decimal(0), "{:.0f}"),
            )
        con.print(t)
