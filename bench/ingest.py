"""Parse-and-upsert throughput of the bundled snapshot on SQLite and PostgreSQL, against a baseline.

Contender: what ``oneprice ingest --venue replay`` does. Parse the snapshot's records into domain objects
and write them page by page (``ingest_page_size`` markets, 5,000 bars per transaction) with
``oneprice.ingest.store.write_page`` (bulk idempotent upserts). Baseline, same process, same records:
parse, then one-row-at-a-time ORM inserts (``session.add`` + ``flush`` per row, one commit per page) on
the first ``--baseline-rows`` records, since it is slow. Each measurement starts from an empty migrated
database. A second contender pass over the same records (every row unchanged) is reported too.
PostgreSQL: scratch databases on the ``--pg`` server, dropped afterwards. Last line: one JSON object.

    .venv/bin/python bench/ingest.py [--pg SERVER_URL] [--baseline-rows 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from oneprice.config import Settings
from oneprice.core import Bar, Market
from oneprice.db import init_db, make_engine, session_scope
from oneprice.db import models as m
from oneprice.ingest import snapshot
from oneprice.ingest.base import Page
from oneprice.ingest.parsers import snapshot as parse
from oneprice.ingest.store import bar_row, market_row, write_page

AS_OF = datetime(2025, 2, 11, 23, 59, 59, tzinfo=UTC)
PAGE = Settings().ingest_page_size  # markets per transaction, as in ``oneprice ingest --venue replay``


def parse_markets(records: Any) -> list[Market]:
    return [parse.parse_market(r, AS_OF) for r in records]


def parse_bars(rows: Any) -> list[Bar]:
    return [parse.parse_bar(r) for r in rows]


def contender(engine: Engine, markets: list[Any], bars: list[list[str]]) -> tuple[float, float]:
    """Seconds to parse and upsert the markets (with outcomes), and the bars."""
    t0 = time.perf_counter()
    parsed = parse_markets(markets)
    for i in range(0, len(parsed), PAGE):
        with session_scope(engine) as s:
            write_page(s, Page(items=parsed[i : i + PAGE]))
    t1 = time.perf_counter()
    pbars = parse_bars(bars)
    for i in range(0, len(pbars), 5000):
        with session_scope(engine) as s:
            write_page(s, Page(items=pbars[i : i + 5000]))
    return t1 - t0, time.perf_counter() - t1


def baseline(engine: Engine, markets: list[Any], bars: list[list[str]]) -> tuple[float, float]:
    """The same work with one ORM insert (and flush) per row."""
    t0 = time.perf_counter()
    parsed = parse_markets(markets)
    with session_scope(engine) as s:
        for v in sorted({k.venue for k in parsed}):
            s.add(m.Venue(name=v, kind="prediction", executable=True))
    for i in range(0, len(parsed), PAGE):
        with session_scope(engine) as s:
            for k in parsed[i : i + PAGE]:
                row = m.Market(**market_row(k))
                s.add(row)
                s.flush()
                for o in k.outcomes:
                    s.add(m.Outcome(market_id=row.id, name=o.name, token_id=o.token_id, price=o.price))
                    s.flush()
    t1 = time.perf_counter()
    pbars = parse_bars(bars)
    with session_scope(engine) as s:
        s.add(m.Venue(name="binance", kind="crypto", executable=True))
    for i in range(0, len(pbars), 5000):
        with session_scope(engine) as s:
            for b in pbars[i : i + 5000]:
                s.add(m.Bar(**bar_row(b)))
                s.flush()
    return t1 - t0, time.perf_counter() - t1


@contextmanager
def sqlite_db(tmp: Path) -> Iterator[Callable[[], Engine]]:
    n = iter(range(1000))

    def fresh() -> Engine:
        return init_db(f"sqlite:///{tmp / f'bench_{next(n)}.sqlite'}")

    yield fresh


@contextmanager
def pg_db(server: str) -> Iterator[Callable[[], Engine]]:
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def fresh() -> Engine:
        name = f"oneprice_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return init_db(server.rsplit("/", 1)[0] + "/" + name)

    try:
        yield fresh
    finally:
        with admin.connect() as c:
            for name in made:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(
    fresh: Callable[[], Engine], markets: list[Any], bars: list[list[str]], nb: int
) -> dict[str, float]:
    e = fresh()
    tm, tb = contender(e, markets, bars)
    tm2, tb2 = contender(e, markets, bars)  # every row unchanged: idempotent re-ingest
    e.dispose()
    e = fresh()
    bm, bb = baseline(e, markets[:nb], bars[:nb])
    e.dispose()
    nbm, nbb = min(nb, len(markets)), min(nb, len(bars))
    return {
        "markets_per_s": len(markets) / tm,
        "bars_per_s": len(bars) / tb,
        "reingest_markets_per_s": len(markets) / tm2,
        "reingest_bars_per_s": len(bars) / tb2,
        "baseline_markets_per_s": nbm / bm,
        "baseline_bars_per_s": nbb / bb,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--pg",
        default=os.environ.get("ONEPRICE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    ap.add_argument("--baseline-rows", type=int, default=3000, help="records the slow baseline inserts")
    a = ap.parse_args()
    markets = list(snapshot.market_records())
    bars = list(snapshot.bar_records())
    print(
        f"snapshot: {len(markets)} markets (+{2 * len(markets)} outcomes), {len(bars)} bars; "
        f"baseline on the first {a.baseline_rows} of each"
    )
    results: dict[str, dict[str, float] | None] = {}
    with tempfile.TemporaryDirectory() as tmp, sqlite_db(Path(tmp)) as fresh:
        results["sqlite"] = measure(fresh, markets, bars, a.baseline_rows)
    try:
        with pg_db(a.pg) as fresh:
            results["postgresql"] = measure(fresh, markets, bars, a.baseline_rows)
    except Exception as exc:  # PostgreSQL not reachable: say so, report null
        print(f"PostgreSQL at {a.pg} unavailable: {type(exc).__name__}: {exc}")
        results["postgresql"] = None
    out: dict[str, Any] = {k: {} for k in ("markets_per_s", "bars_per_s", "speedup_vs_row_by_row")}
    out |= {
        k: {}
        for k in (
            "baseline_markets_per_s",
            "baseline_bars_per_s",
            "reingest_markets_per_s",
            "reingest_bars_per_s",
            "speedup_markets",
            "speedup_bars",
        )
    }
    print(
        f"{'backend':<11} {'markets/s':>10} {'base':>8} {'x':>6} {'bars/s':>10} {'base':>8} {'x':>6} "
        f"{'re-mk/s':>9} {'re-bars/s':>10}"
    )
    for backend, r in results.items():
        if r is None:
            for k in out:
                out[k][backend] = None
            continue
        sm = r["markets_per_s"] / r["baseline_markets_per_s"]
        sb = r["bars_per_s"] / r["baseline_bars_per_s"]
        for k, v in r.items():
            out[k][backend] = round(v, 1)
        out["speedup_markets"][backend] = round(sm, 2)
        out["speedup_bars"][backend] = round(sb, 2)
        out["speedup_vs_row_by_row"][backend] = round(min(sm, sb), 2)
        print(
            f"{backend:<11} {r['markets_per_s']:>10.0f} {r['baseline_markets_per_s']:>8.0f} {sm:>6.1f} "
            f"{r['bars_per_s']:>10.0f} {r['baseline_bars_per_s']:>8.0f} {sb:>6.1f} "
            f"{r['reingest_markets_per_s']:>9.0f} {r['reingest_bars_per_s']:>10.0f}"
        )
    sq = results["sqlite"] or {}
    out["targets"] = {
        "speedup_at_least_10x": all(v is not None and v >= 10 for v in out["speedup_vs_row_by_row"].values()),
        "sqlite_bars_per_s_at_least_20000": sq.get("bars_per_s", 0) >= 20000,
    }
    out["speedup_vs_row_by_row_note"] = "min of the markets and bars speedups per backend"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
