#!/usr/bin/env python
"""Build the bundled snapshot (oneprice/ingest/snapshot/) from the team's shared real-data directory.

Usage: python scripts/build_snapshot.py --source <shared data dir> [--out DIR] [--hourly-days 365]

``--source`` is the directory that holds ``prediction_markets/`` and ``crypto/``. The format is described in
``oneprice/ingest/snapshot/FORMAT.md``. Output is deterministic for the same input (gzip mtime 0).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "oneprice" / "ingest" / "snapshot"
LISTING_DAY = "2025-02-11"
VENUES = {"Kalshi": "kalshi", "Kalshi-Election": "kalshi", "Polymarket": "polymarket"}
SERIES = [("BTCUSDT", "BTC/USDT"), ("ETHUSDT", "ETH/USDT")]


def iso(ts: str) -> str:
    """Any ISO-8601 text to UTC ``YYYY-MM-DDTHH:MM:SSZ`` (naive text is taken as UTC)."""
    t = datetime.fromisoformat(ts.strip().replace("Z", "+00:00"))
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def event_ticker(ticker: str) -> str:
    return ticker.rsplit("-", 1)[0] if "-" in ticker else ticker


def gz_write(path: Path, text: str) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(text.encode())
    path.write_bytes(buf.getvalue())


def listing_rows(src: Path) -> list[dict]:
    base = src / "prediction_markets" / "gagordon1_bet_arbitrage"
    rows: list[dict] = []
    for r in json.loads((base / f"kalshi_markets_normalized_{LISTING_DAY}.json").read_text()):
        t = r["id"]
        rows.append(
            {
                "venue": "kalshi",
                "id": t,
                "event_id": event_ticker(t),
                "question": r["question"],
                "rules": r.get("description") or "",
                "close_time": iso(r["end_date"]) if r.get("end_date") else None,
                "listing": LISTING_DAY,
            }
        )
    for r in json.loads((base / f"polymarket_markets_normalized_{LISTING_DAY}.json").read_text()):
        rows.append(
            {
                "venue": "polymarket",
                "id": r["id"],
                "question": r["question"],
                "rules": r.get("description") or "",
                "close_time": iso(r["end_date"]) if r.get("end_date") else None,
                "yes_token": r.get("yes_id"),
                "no_token": r.get("no_id"),
                "listing": LISTING_DAY,
            }
        )
    return rows


def pair_rows(src: Path) -> tuple[list[dict], list[dict]]:
    """Markets of the candidate pairs absent from the listings, and every recorded quote."""
    path = (
        src
        / "prediction_markets"
        / "gagordon1_bet_arbitrage"
        / "kalshi_polymarket_candidate_pairs_machine_labeled.csv"
    )
    extra: dict[tuple[str, str], dict] = {}
    quotes: dict[tuple[str, str, str], dict] = {}
    with path.open(newline="") as f:
        for r in csv.DictReader(f):
            ts = iso(r["last_seen"])
            for s in ("a", "b"):
                venue = VENUES[r[f"venue_{s}"]]
                mid = r[f"id_{s}"]
                m = {
                    "venue": venue,
                    "id": mid,
                    "question": r[f"question_{s}"],
                    "rules": r[f"description_{s}"],
                    "close_time": iso(r[f"end_date_{s}"]) if r[f"end_date_{s}"] else None,
                    "listing": "candidate_pairs",
                }
                if venue == "kalshi":
                    m["event_id"] = event_ticker(mid)
                else:
                    m["yes_token"], m["no_token"] = r[f"yes_token_{s}"] or None, r[f"no_token_{s}"] or None
                extra.setdefault((venue, mid), m)
                q = {k: r[f"{k}_{s}"] for k in ("yes_bid", "yes_ask", "no_bid", "no_ask")}
                quotes.setdefault((venue, mid, ts), {"venue": venue, "id": mid, "ts": ts, **q})
    return list(extra.values()), sorted(quotes.values(), key=lambda q: (q["venue"], q["id"], q["ts"]))


def bar_rows(src: Path, hourly_days: int) -> list[list[str]]:
    out: list[list[str]] = []
    for file_sym, symbol in SERIES:
        for tf in ("1d", "4h", "1h"):
            with (src / "crypto" / "binance_usdm_intraday" / f"{file_sym}_{tf}.csv").open(newline="") as f:
                rows = list(csv.DictReader(f))
            last = datetime.fromisoformat(rows[-1]["Date"])
            keep_from = last - timedelta(days=hourly_days) if tf != "1d" else datetime.min.replace(tzinfo=UTC)
            for r in rows:
                t = datetime.fromisoformat(r["Date"])
                if t > keep_from:
                    out.append(
                        [
                            "binance",
                            symbol,
                            tf,
                            str(int(t.timestamp())),
                            r["Open"],
                            r["High"],
                            r["Low"],
                            r["Close"],
                            r["Volume"],
                        ]
                    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--source",
        required=True,
        type=Path,
        help="shared data directory (holds prediction_markets/, crypto/)",
    )
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--hourly-days", type=int, default=365, help="days of 1h and 4h bars to keep (1d: all)")
    a = ap.parse_args()
    listing = listing_rows(a.source)
    seen = {(m["venue"], m["id"]) for m in listing}
    extra, quotes = pair_rows(a.source)
    markets = listing + [m for m in extra if (m["venue"], m["id"]) not in seen]
    # markets with recorded quotes first, so that a replay with --limit still has prices and books
    quoted = {(q["venue"], q["id"]) for q in quotes}
    markets.sort(key=lambda m: (m["venue"], m["id"]) not in quoted)
    bars = bar_rows(a.source, a.hourly_days)
    a.out.mkdir(parents=True, exist_ok=True)
    gz_write(
        a.out / "markets.jsonl.gz",
        "".join(json.dumps(m, ensure_ascii=False, sort_keys=True) + "\n" for m in markets),
    )
    qbuf = io.StringIO()
    w = csv.writer(qbuf, lineterminator="\n")
    w.writerow(["venue", "id", "ts", "yes_bid", "yes_ask", "no_bid", "no_ask"])
    w.writerows(
        [q["venue"], q["id"], q["ts"], q["yes_bid"], q["yes_ask"], q["no_bid"], q["no_ask"]] for q in quotes
    )
    gz_write(a.out / "quotes.csv.gz", qbuf.getvalue())
    bbuf = io.StringIO()
    w = csv.writer(bbuf, lineterminator="\n")
    w.writerow(["exchange", "symbol", "timeframe", "ts", "open", "high", "low", "close", "volume"])
    w.writerows(bars)
    gz_write(a.out / "bars.csv.gz", bbuf.getvalue())
    counts = {"markets.jsonl.gz": len(markets), "quotes.csv.gz": len(quotes), "bars.csv.gz": len(bars)}
    manifest = {
        "format": "oneprice-snapshot",
        "version": 1,
        "as_of": LISTING_DAY,
        "files": {
            name: {
                "rows": n,
                "bytes": (a.out / name).stat().st_size,
                "sha256": hashlib.sha256((a.out / name).read_bytes()).hexdigest(),
            }
            for name, n in counts.items()
        },
        "markets_by_venue": {v: sum(1 for m in markets if m["venue"] == v) for v in ("kalshi", "polymarket")},
        "markets_by_listing": {
            k: sum(1 for m in markets if m["listing"] == k) for k in (LISTING_DAY, "candidate_pairs")
        },
    }
    (a.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
