"""Constrained output on agent and extraction prompts: schema validity and identity with plain decoding.

Builds 240 prompts from templates (120 agent decisions over indicator snapshots, 120 extractions of
contract facets from market questions; numbers from a seeded generator, text our own). Each prompt is
decoded greedily in fp32 under its JSON Schema with the plain path (``--batch`` prompts at a time
through the continuous-batching scheduler: plain batched steps, each row masked by its own grammar;
where a speculative run differs, the prompt is also decoded alone to say which of the two moved),
then with every proposer forced to speculate (and with ``auto``), one request at a time; reported: the
share of replies that parse and validate, and the share of speculative runs whose tokens equal
constrained plain decoding's. ``--rotate`` checks one method per prompt (taking the methods in turn)
instead of all of them, ``--identity-every N`` only every N-th prompt: the validity figure always
covers every prompt, with the whole object decoded (no reply may stop at the token limit unnoticed:
``cut_at_max_tokens`` counts them). Last line: one JSON object.

    .venv/bin/python bench/llm_structured.py                    # all 240 prompts, SmolLM2-135M fp32
    .venv/bin/python bench/llm_structured.py --rotate --threads 1   # every method, a quarter each
    .venv/bin/python bench/llm_structured.py --limit 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import jsonschema
import torch

from oneprice.models.llm.batch import stream_batch
from oneprice.models.llm.controller import FixedController
from oneprice.models.llm.engine import Engine
from oneprice.models.llm.loader import load
from oneprice.models.llm.sampling import SamplingParams

DECISION = {
    "type": "object",
    "properties": {
        "action": {"enum": ["buy", "sell", "hold"]},
        "size": {"type": "integer", "minimum": 0, "maximum": 100},
        "reason": {"type": "string", "maxLength": 40},
    },
    "required": ["action", "size", "reason"],
    "additionalProperties": False,
}
EXTRACT = {
    "type": "object",
    "properties": {
        "subject": {"type": "string", "maxLength": 30},
        "threshold": {"type": "number"},
        "direction": {"enum": ["above", "below"]},
        "deadline": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    },
    "required": ["subject", "threshold", "direction", "deadline"],
    "additionalProperties": False,
}
ASSETS = ["BTC", "ETH", "SOL", "XRP", "DOGE", "ADA"]
SUBJECTS = ["Bitcoin", "Ether", "the S&P 500", "US CPI", "the Fed funds rate", "gold", "WTI crude", "Nasdaq"]


def prompts(n_each: int = 120, seed: int = 17) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n_each):
        a = rng.choice(ASSETS)
        rsi, close = round(rng.uniform(15, 85), 1), round(rng.uniform(10, 60000), 2)
        sma = round(close * rng.uniform(0.9, 1.1), 2)
        text = (
            f"{a}/USDT 4h snapshot: RSI(14) {rsi}, close {close}, SMA(20) {sma}, position 0. "
            "Decide the next action and reply with JSON: action (buy, sell or hold), size (0-100), reason."
        )
        out.append({"id": f"agent{i}", "schema": DECISION, "messages": [{"role": "user", "content": text}]})
    for i in range(n_each):
        s = rng.choice(SUBJECTS)
        level = round(rng.uniform(1, 5000), rng.choice([0, 1, 2]))
        word = rng.choice(["above", "below"])
        date = f"202{rng.randint(5, 7)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        q = f"Will {s} close {word} {level} on {date}?"
        text = f"Market question: {q}\nExtract its facets as JSON: subject, threshold, direction, deadline."
        out.append({"id": f"extract{i}", "schema": EXTRACT, "messages": [{"role": "user", "content": text}]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--limit", type=int, default=0, help="first N of each kind (0: all)")
    ap.add_argument("--max-new-tokens", type=int, default=96)
    ap.add_argument("--methods", default="prompt_lookup,token_recycling,draft,auto")
    ap.add_argument("--batch", type=int, default=16, help="plain constrained rows decoded together")
    ap.add_argument("--rotate", action="store_true", help="one speculative method per prompt, in turn")
    ap.add_argument("--identity-every", type=int, default=1, help="identity check on every N-th prompt")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    items = prompts()
    if args.limit:
        items = [p for p in items if int(p["id"].lstrip("agentxrc")) < args.limit]
    t0 = time.perf_counter()
    engine = Engine(
        load(args.model, dtype="fp32", device="cpu"), load(args.model, dtype="bf16", device="cpu")
    )
    methods = [m for m in args.methods.split(",") if m]
    encoded = [engine.encode_chat(p["messages"]) for p in items]
    params = [
        SamplingParams(max_new_tokens=args.max_new_tokens, method="plain", json_schema=p["schema"])
        for p in items
    ]
    engine.controller = None
    ctl = engine.calibrate() if "auto" in methods else None  # ``auto`` runs the real controller
    engine.controller = None
    plain: list[list[int]] = [[] for _ in items]
    finish: list[str | None] = [None for _ in items]
    for lo in range(0, len(items), args.batch):
        rows = range(lo, min(lo + args.batch, len(items)))
        for r, chunk in stream_batch(engine, [encoded[i] for i in rows], [params[i] for i in rows]):
            plain[lo + r].extend(chunk.token_ids)
            finish[lo + r] = chunk.finish_reason or finish[lo + r]
    t_plain = time.perf_counter() - t0
    valid = identical = runs = cut = 0
    by_method = {m: [0, 0] for m in methods}
    for i, p in enumerate(items):
        text = engine.tokenizer.decode(plain[i], skip_special_tokens=True)
        try:
            jsonschema.validate(json.loads(text), p["schema"])
            valid += 1
        except (json.JSONDecodeError, jsonschema.ValidationError):
            pass
        cut += finish[i] == "length"
        mine = [methods[(i // args.identity_every) % len(methods)]] if args.rotate else methods
        if i % args.identity_every:
            mine = []
        for m in mine:
            engine.controller = ctl if m == "auto" else FixedController({"draft": 4}.get(m, 6))
            spec = engine.generate(encoded[i], SamplingParams(**{**vars(params[i]), "method": m}))
            same = spec.token_ids == plain[i]
            if not same:  # which one differs from one-request constrained plain decoding?
                engine.controller = None
                alone = engine.generate(encoded[i], params[i]).token_ids
                print(json.dumps({"id": p["id"], "method": m, "batched_equals_alone": alone == plain[i]}))
            runs += 1
            identical += same
            by_method[m][0] += same
            by_method[m][1] += 1
        print(json.dumps({"id": p["id"], "text": text, "finish": finish[i], "checked": mine}), flush=True)
    print(
        json.dumps(
            {
                "model": args.model,
                "prompts": len(items),
                "schema_valid": valid,
                "schema_valid_rate": round(valid / len(items), 4),
                "cut_at_max_tokens": cut,
                "max_new_tokens": args.max_new_tokens,
                "plain_batch": args.batch,
                "plain_seconds": round(t_plain, 1),
                "speculative_runs": runs,
                "identical_to_constrained_plain": identical,
                "identical_rate": round(identical / runs, 4) if runs else None,
                "identical_by_method": {m: f"{a}/{b}" for m, (a, b) in by_method.items()},
                "methods": methods,
                "rotate": args.rotate,
                "identity_every": args.identity_every,
                "threads": torch.get_num_threads(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
