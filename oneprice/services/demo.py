"""The main job on the embedded default: ingest the bundled snapshot, align, scan, report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from oneprice.services import alignment, arbitrage, ingest
from oneprice.services.container import Services


@dataclass(frozen=True)
class DemoResult:
    ingest: ingest.IngestSummary
    align: alignment.AlignRun
    scan: arbitrage.ScanSummary


def run_demo(svc: Services, say: Callable[[str], None] | None = None) -> DemoResult:
    """Ingest the snapshot (idempotent), align Kalshi and Polymarket, and scan the matched pairs.

    Each step is a normal use case, so re-running the demo only refreshes what changed.
    """
    say = say or (lambda _m: None)
    say("ingesting the bundled snapshot (replay source)")
    summary = ingest.ingest(svc, "replay")
    say("aligning markets across venues (trains the alignment model on first use)")
    aligned = alignment.run(svc, progress=say)
    say("scanning matched pairs for executable edges")
    scan = arbitrage.scan_once(svc, source="replay")
    return DemoResult(summary, aligned, scan)
