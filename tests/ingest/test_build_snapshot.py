"""scripts/build_snapshot.py on a miniature source tree laid out like the shared data directory."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).parents[2]


def make_source(src: Path) -> None:
    g = src / "prediction_markets" / "gagordon1_bet_arbitrage"
    g.mkdir(parents=True)
    kalshi = [
        {
            "platform": "Kalshi",
            "question": "Will the Fed cut?",
            "id": "KXFED-25MAR-C25",
            "yes_id": None,
            "no_id": None,
            "description": "If the Fed cuts...",
            "end_date": "2025-03-19T18:00:00.000000Z",
        },
        {
            "platform": "Kalshi",
            "question": "Will it rain?",
            "id": "RAIN",
            "yes_id": None,
            "no_id": None,
            "description": "",
            "end_date": None,
        },
    ]
    poly = [
        {
            "platform": "Polymarket",
            "question": "Fed cut in March?",
            "id": "0xabc",
            "yes_id": "1",
            "no_id": "2",
            "description": "Resolves Yes if...",
            "end_date": "2025-03-19T00:00:00.000000Z",
        },
    ]
    (g / "kalshi_markets_normalized_2025-02-11.json").write_text(json.dumps(kalshi))
    (g / "polymarket_markets_normalized_2025-02-11.json").write_text(json.dumps(poly))
    cols = ["pair_key", "machine_label", "first_seen", "last_seen", "snapshots_seen"]
    side = [
        "venue",
        "id",
        "question",
        "description",
        "end_date",
        "yes_bid",
        "yes_ask",
        "no_bid",
        "no_ask",
        "yes_token",
        "no_token",
    ]
    with (g / "kalshi_polymarket_candidate_pairs_machine_labeled.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols + [f"{c}_a" for c in side] + [f"{c}_b" for c in side])
        w.writerow(
            [
                "k",
                "embedding+llm_accepted",
                "2025-02-01T10:00:00-05:00",
                "2025-02-11T20:39:23-05:00",
                "3",
                "Polymarket",
                "0xabc",
                "Fed cut in March?",
                "Resolves Yes if...",
                "",
                "0.4",
                "0.42",
                "0.58",
                "0.6",
                "1",
                "2",
                "Kalshi-Election",
                "PRES-2024-DJT",
                "Trump wins?",
                "If Trump wins...",
                "2024-11-05T00:00:00Z",
                "0.0",
                "0.03",
                "0.97",
                "1.0",
                "",
                "",
            ]
        )
    b = src / "crypto" / "binance_usdm_intraday"
    b.mkdir(parents=True)
    for sym in ("BTCUSDT", "ETHUSDT"):
        for tf, step in (("1d", 86400), ("4h", 14400), ("1h", 3600)):
            lines = ["Date,Open,High,Low,Close,Volume"]
            for i in range(5):
                ts = 1704067200 + i * step
                lines.append(f"{datetime.fromtimestamp(ts, UTC).isoformat()},1,2,0.5,1.5,10")
            (b / f"{sym}_{tf}.csv").write_text("\n".join(lines) + "\n")


def build(src: Path, out: Path) -> dict:
    cmd = [
        sys.executable,
        str(ROOT / "scripts" / "build_snapshot.py"),
        "--source",
        str(src),
        "--out",
        str(out),
        "--hourly-days",
        "1",
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    return json.loads((out / "manifest.json").read_text())


def test_build_snapshot(tmp_path: Path) -> None:
    make_source(tmp_path / "src")
    man = build(tmp_path / "src", tmp_path / "a")
    assert man["markets_by_venue"] == {"kalshi": 3, "polymarket": 1}
    assert man["markets_by_listing"] == {"2025-02-11": 3, "candidate_pairs": 1}
    markets = [
        json.loads(x)
        for x in gzip.decompress((tmp_path / "a" / "markets.jsonl.gz").read_bytes()).splitlines()
    ]
    assert [m["id"] for m in markets[:2]] == ["0xabc", "PRES-2024-DJT"]  # quoted markets first
    by_id = {m["id"]: m for m in markets}
    assert by_id["KXFED-25MAR-C25"]["event_id"] == "KXFED-25MAR" and by_id["RAIN"]["event_id"] == "RAIN"
    assert by_id["PRES-2024-DJT"]["venue"] == "kalshi" and by_id["0xabc"]["yes_token"] == "1"
    quotes = list(
        csv.DictReader(gzip.decompress((tmp_path / "a" / "quotes.csv.gz").read_bytes()).decode().splitlines())
    )
    assert {q["ts"] for q in quotes} == {"2025-02-12T01:39:23Z"} and len(quotes) == 2
    bars = gzip.decompress((tmp_path / "a" / "bars.csv.gz").read_bytes()).decode().splitlines()
    assert len(bars) == 1 + 2 * (5 + 5 + 5)  # all 1d; the 4h and 1h bars all lie within the last day
    again = build(tmp_path / "src", tmp_path / "b")
    assert again == man  # deterministic: same bytes, same hashes
