"""One arbitrage scan cycle over N matched pairs with 20-level books served on loopback.

A separate server process answers Kalshi ``GET /markets/{ticker}/orderbook`` (``orderbook_fp``
dollar ladders) and Polymarket CLOB ``GET /book?token_id=`` payloads, each after ``--latency-ms``
(standing in for the network round trip to the venue). The real Kalshi and Polymarket clients
(``oneprice.ingest.make_client``, rate limit lifted) fetch the books; detection and persistence
(SQLite: loading the matches, writing the run) run as in ``oneprice scan``. Contender: concurrent
fetching (per-venue limit). Baseline: the same cycle fetching one market at a time.
Last line: one JSON object.

    .venv/bin/python bench/scan.py [--pairs 1000] [--levels 20] [--latency-ms 20] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from oneprice.arbitrage import store
from oneprice.arbitrage.detect import Params
from oneprice.arbitrage.scan import load_pairs, run_scan
from oneprice.db import init_db, session_scope, upsert
from oneprice.db import models as m
from oneprice.ingest import make_client


def ladder(rng: random.Random, best: int, levels: int, up: bool) -> list[tuple[int, int]]:
    """``levels`` price levels in cents starting at ``best`` and moving away from it, with sizes."""
    out, price = [], best
    for _ in range(levels):
        if not 1 <= price <= 99:
            break
        out.append((price, rng.randint(10, 500)))
        price += 1 if up else -1
    return out


def make_books(n: int, levels: int, seed: int = 7) -> tuple[dict[str, Any], dict[str, Any]]:
    """Kalshi orderbook bodies by ticker and Polymarket CLOB bodies by token id. One pair in ten is
    mispriced across venues so that detection walks books and finds edges."""
    rng = random.Random(seed)
    kalshi, poly = {}, {}
    for i in range(n):
        fair = rng.randint(15, 85)
        skew = rng.choice([6, -6]) if i % 10 == 0 else 0
        k_yes_bid, k_no_bid = fair - 1, 100 - fair - 1  # YES ask = 100 - best NO bid = fair + 1
        kalshi[f"KXBENCH-{i}"] = {
            "orderbook_fp": {
                "yes_dollars": [
                    [f"{p / 100:.4f}", f"{s}.00"] for p, s in reversed(ladder(rng, k_yes_bid, levels, False))
                ],
                "no_dollars": [
                    [f"{p / 100:.4f}", f"{s}.00"] for p, s in reversed(ladder(rng, k_no_bid, levels, False))
                ],
            }
        }
        pf = fair + skew
        for token, mid in ((f"{i}01", pf), (f"{i}02", 100 - pf)):
            poly[token] = {
                "market": f"0x{i:064x}",
                "asset_id": token,
                "hash": f"{i:040x}",
                "tick_size": "0.01",
                "min_order_size": "5",
                "neg_risk": False,
                # the CLOB lists bids ascending and asks descending (best last)
                "bids": [
                    {"price": f"{p / 100:.2f}", "size": str(s)}
                    for p, s in reversed(ladder(rng, mid - 1, levels, False))
                ],
                "asks": [
                    {"price": f"{p / 100:.2f}", "size": str(s)}
                    for p, s in reversed(ladder(rng, mid + 1, levels, True))
                ],
            }
    return kalshi, poly


def respond(path: str, kalshi: dict[str, bytes], poly: dict[str, bytes]) -> tuple[int, bytes]:
    url = urlparse(path)
    if url.path == "/__cpu":  # the server's own CPU seconds, to show where a cycle's time goes
        return 200, json.dumps({"cpu_s": time.process_time()}).encode()
    if url.path.startswith("/kalshi/markets/") and url.path.endswith("/orderbook"):
        body = kalshi.get(url.path.split("/")[3])
        if body is not None:
            return 200, body
    elif url.path == "/clob/book":
        body = poly.get(parse_qs(url.query).get("token_id", [""])[0])
        if body is not None:  # the book's timestamp is the time it is served
            return 200, body.replace(b"__TS__", str(int(time.time() * 1000)).encode())
    return 404, b'{"error": "not found"}'


def serve(port_q: Any, n: int, levels: int, latency_s: float) -> None:
    """A small asyncio HTTP/1.1 keep-alive server (cheap on CPU, so the client is what is measured)."""
    k, p = make_books(n, levels)
    kalshi = {t: json.dumps(b).encode() for t, b in k.items()}
    poly = {t: json.dumps(dict(b, timestamp="__TS__")).encode() for t, b in p.items()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                await asyncio.sleep(latency_s)
                code, body = respond(path, kalshi, poly)
                writer.write(
                    b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % (code, b"OK" if code == 200 else b"Not Found", len(body))
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        srv = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port_q.put(srv.sockets[0].getsockname()[1])
        await srv.serve_forever()

    asyncio.run(main())


def seed_db(engine: Any, n: int) -> None:
    """Markets, outcomes and confirmed equivalent matches for the bench pairs, as alignment writes them."""
    close = datetime.now(UTC) + timedelta(days=90)
    with session_scope(engine) as s:
        s.add_all([m.Venue(name="kalshi"), m.Venue(name="polymarket")])
        s.flush()
        ka = [
            {
                "venue": "kalshi",
                "external_id": f"KXBENCH-{i}",
                "question": f"Bench event {i}?",
                "close_time": close,
                "extra": {"tick_size": "0.01"},
            }
            for i in range(n)
        ]
        pm = [
            {
                "venue": "polymarket",
                "external_id": f"0x{i:064x}",
                "question": f"Bench event {i}?",
                "close_time": close,
                "extra": {"fee_rate": 0.02 if i % 3 == 0 else None, "fee_exponent": 1, "tick_size": "0.01"},
            }
            for i in range(n)
        ]
        _, kid = upsert(s, m.Market, ka, ["venue", "external_id"], returning="id")
        _, pid = upsert(s, m.Market, pm, ["venue", "external_id"], returning="id")
        outs = []
        for i in range(n):
            k, p = kid[("kalshi", f"KXBENCH-{i}")], pid[("polymarket", f"0x{i:064x}")]
            outs += [
                {"market_id": k, "name": "Yes", "token_id": None},
                {"market_id": k, "name": "No", "token_id": None},
                {"market_id": p, "name": "Yes", "token_id": f"{i}01"},
                {"market_id": p, "name": "No", "token_id": f"{i}02"},
            ]
        upsert(s, m.Outcome, outs, ["market_id", "name"])
        matches = [
            {
                "market_a_id": kid[("kalshi", f"KXBENCH-{i}")],
                "market_b_id": pid[("polymarket", f"0x{i:064x}")],
                "relation": "equivalent",
                "outcome_map": {"Yes": "Yes", "No": "No"},
                "status": "confirmed",
                "confidence": 0.99,
            }
            for i in range(n)
        ]
        upsert(s, m.Match, matches, ["market_a_id", "market_b_id"])


async def server_cpu(client: Any, base: str) -> float:
    return float((await client.http.get_json(f"{base}/__cpu"))["cpu_s"])


async def cycle(
    port: int, engine: Any, concurrency: int, total_limit: int | None, limit: int | None = None
) -> dict:
    base = f"http://127.0.0.1:{port}"
    clients = {
        "kalshi": make_client("kalshi", base_url=f"{base}/kalshi", rate_per_s=1e9),
        "polymarket": make_client(
            "polymarket", gamma_url=f"{base}/gamma", clob_url=f"{base}/clob", rate_per_s=1e9
        ),
    }
    try:
        srv0 = await server_cpu(clients["kalshi"], base)
        t0, c0 = time.perf_counter(), time.process_time()
        with session_scope(engine) as s:
            ps = load_pairs(s, 0.8)[:limit]
        res = await run_scan(ps, clients, Params(), "live", concurrency, total_limit)
        store.save_run(engine, res)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        srv = await server_cpu(clients["kalshi"], base) - srv0
    finally:
        for c in clients.values():
            await c.aclose()
    return {
        "cycle_s": elapsed,
        "cpu_s": cpu,
        "server_cpu_s": srv,
        "fetch_s": res.fetch_s,
        "books": res.books,
        "errors": res.venue_errors,
        "opportunities": len(res.opportunities),
        "evaluated": len(res.candidates),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--levels", type=int, default=20)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    q: Any = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(
        target=serve, args=(q, args.pairs, args.levels, args.latency_ms / 1000), daemon=True
    )
    proc.start()
    port = q.get(timeout=60)
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    tmp = Path(tempfile.mkdtemp(prefix="oneprice-bench-"))
    engine = init_db(f"sqlite:///{tmp / 'bench.sqlite'}")
    seed_db(engine, args.pairs)
    try:
        asyncio.run(cycle(port, engine, args.concurrency, None, 20))  # warm-up: imports, connections
        con = asyncio.run(cycle(port, engine, args.concurrency, None))
        seq = asyncio.run(cycle(port, engine, args.concurrency, 1))
    finally:
        proc.terminate()
    for name, r in (("concurrent", con), ("sequential", seq)):
        print(
            f"{name:>10}: cycle {r['cycle_s']:.2f}s (fetch {r['fetch_s']:.2f}s), "
            f"{r['books']} markets' books, "
            f"{r['evaluated']} pairs evaluated, {r['opportunities']} opportunities, "
            f"CPU {r['cpu_s']:.2f}s scanner + {r['server_cpu_s']:.2f}s server, "
            f"errors {r['errors'] or 'none'}"
        )
    speedup = seq["cycle_s"] / con["cycle_s"]
    print(
        f"speedup {speedup:.1f}x with {args.concurrency} requests in flight per venue; "
        f"{args.latency_ms:g} ms simulated round trip, 3 requests per pair (1 Kalshi, 2 Polymarket); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (a loaded machine starves the "
        "concurrent cycle, which is CPU-bound, while the sequential one mostly waits)"
    )
    print(
        json.dumps(
            {
                "pairs": args.pairs,
                "levels": args.levels,
                "latency_ms": args.latency_ms,
                "concurrency": args.concurrency,
                "cycle_s": round(con["cycle_s"], 3),
                "pairs_per_s": round(args.pairs / con["cycle_s"], 1),
                "sequential_cycle_s": round(seq["cycle_s"], 3),
                "sequential_pairs_per_s": round(args.pairs / seq["cycle_s"], 1),
                "speedup_vs_sequential": round(speedup, 2),
                "opportunities": con["opportunities"],
                "scanner_cpu_s": round(con["cpu_s"], 3),
                "server_cpu_s": round(con["server_cpu_s"], 3),
                "cpus": os.cpu_count(),
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
