"""The server under 16 concurrent streaming clients with random disconnects, against serial requests.

Starts ``LLMServer`` on loopback (SmolLM2-135M by default), sends the same requests one at a time
(serial) and then from 16 streaming clients at once, a seeded third of which hang up mid-stream.
Reports tokens/s received in both runs, their ratio, the scheduler's peak batch, and whether the
engine's active-request gauge returned to 0 (no leaked work). Last line: one JSON object.

    .venv/bin/python bench/llm_serve.py [--clients 16] [--max-tokens 32]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import httpx
import torch

from oneprice.models.llm.engine import Engine
from oneprice.models.llm.loader import load
from oneprice.models.llm.server import LLMServer

ASKS = ["Name a crypto exchange.", "What is an order book?", "Define slippage.", "What is a limit order?"]


def one(url: str, i: int, max_tokens: int, leave_after: int | None, got: dict[int, int]) -> None:
    body = {"messages": [{"role": "user", "content": ASKS[i % len(ASKS)]}], "max_tokens": max_tokens}
    body |= {"stream": True, "stream_options": {"include_usage": False}}
    n = 0
    with httpx.Client(timeout=600) as c, c.stream("POST", url + "/chat/completions", json=body) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"][0]["delta"]
                n += 1 if delta.get("content") else 0
                if leave_after is not None and n >= leave_after:
                    break
    got[i] = n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    engine = Engine(load(args.model, dtype=args.dtype, device="auto"), method="plain")
    srv = LLMServer(engine, args.model, "127.0.0.1", 0)
    srv.start()
    url = srv.url
    rng = random.Random(3)
    leave = [rng.choice([None, None, 4]) for _ in range(args.clients)]
    serial: dict[int, int] = {}
    t0 = time.perf_counter()
    for i in range(args.clients):
        one(url, i, args.max_tokens, leave[i], serial)
    serial_s = time.perf_counter() - t0
    conc: dict[int, int] = {}
    threads = [
        threading.Thread(target=one, args=(url, i, args.max_tokens, leave[i], conc))
        for i in range(args.clients)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conc_s = time.perf_counter() - t0
    deadline = time.time() + 60
    while srv.scheduler.active and time.time() < deadline:
        time.sleep(0.05)
    srv.stop()
    s_tok, c_tok = sum(serial.values()), sum(conc.values())
    print(
        json.dumps(
            {
                "model": args.model,
                "clients": args.clients,
                "disconnecting_clients": sum(x is not None for x in leave),
                "serial_tok_s": round(s_tok / serial_s, 2),
                "concurrent_tok_s": round(c_tok / conc_s, 2),
                "concurrent_vs_serial": round((c_tok / conc_s) / (s_tok / serial_s), 3),
                "peak_batch": srv.scheduler.peak_batch,
                "active_after": srv.scheduler.active,
                "no_leaked_work": srv.scheduler.active == 0,
                "serial_tokens": s_tok,
                "concurrent_tokens": c_tok,
                "serial_s": round(serial_s, 1),
                "concurrent_s": round(conc_s, 1),
                "threads": torch.get_num_threads(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
