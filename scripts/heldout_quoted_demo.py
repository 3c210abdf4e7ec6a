"""The demo restricted to the snapshot's markets with recorded quotes (the only ones a replay scan can
price): ingest the snapshot, close every other market, align, scan, print the scan. For a quick read of
the opportunities on a slow host (``oneprice demo`` embeds all 10,846 listed questions first).

    ONEPRICE_DATA_DIR=/tmp/quoted .venv/bin/python scripts/heldout_quoted_demo.py
    ONEPRICE_DATA_DIR=/tmp/quoted .venv/bin/python scripts/heldout_sample.py --opportunities
"""

from __future__ import annotations

import csv
import gzip
import io
from importlib import resources

from oneprice.cli.arbitrage import print_scan, wide_console
from oneprice.db import models as m
from oneprice.services import alignment, arbitrage, ingest
from oneprice.services.container import build_services


def main() -> None:
    svc = build_services()
    summary = ingest.ingest(svc, "replay")
    print(f"ingest {summary.status}: inserted {summary.inserted}")
    raw = resources.files("oneprice.ingest").joinpath("snapshot/quotes.csv.gz").read_bytes()
    quoted = {(r["venue"], r["id"]) for r in csv.DictReader(io.StringIO(gzip.decompress(raw).decode()))}
    closed = 0
    with svc.session() as s:
        for row in s.query(m.Market).filter(m.Market.status == "open"):
            if (row.venue, row.external_id) not in quoted:
                row.status = "closed"
                closed += 1
    print(f"closed {closed} markets without recorded quotes; {len(quoted)} quoted")
    print(alignment.run(svc, progress=print))
    print_scan(arbitrage.scan_once(svc, source="replay"), wide_console())


if __name__ == "__main__":
    main()
