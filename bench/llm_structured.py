"""Constrained output on agent and extraction prompts: schema validity and identity with plain decoding.

Builds 240 prompts from templates (120 agent decisions over indicator snapshots, 120 extractions of
contract facets from market questions; numbers from a seeded generator, text our own). Each prompt is
decoded greedily in fp32 under its JSON Schema with the plain path, then with every proposer forced to
speculate (and with ``auto``); reported: the share of replies that parse and validate, and the share
of speculative runs whose tokens equal constrained plain decoding's. Last line: one JSON object.

    .venv/bin/python bench/llm_structured.py                    # all 240 prompts, SmolLM2-135M fp32
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
    args = ap.parse_args()
    items = prompts()
    if args.limit:
        items = [p for p in items if int(p["id"].lstrip("agentxrc")) < args.limit]
    t0 = time.perf_counter()
    engine = Engine(
        load(args.model, dtype="fp32", device="cpu"), load(args.model, dtype="bf16", device="cpu")
    )
    methods = [m for m in args.methods.split(",") if m]
    valid = identical = runs = cut = 0
    for p in items:
        ids = engine.encode_chat(p["messages"])
        params = SamplingParams(max_new_tokens=args.max_new_tokens, method="plain", json_schema=p["schema"])
        engine.controller = None
        plain = engine.generate(ids, params)
        try:
            jsonschema.validate(json.loads(plain.text), p["schema"])
            valid += 1
        except (json.JSONDecodeError, jsonschema.ValidationError):
            cut += plain.finish_reason == "length"
        for m in methods:
            engine.controller = None if m == "auto" else FixedController({"draft": 4}.get(m, 6))
            spec = engine.generate(ids, SamplingParams(**{**vars(params), "method": m}))
            runs += 1
            identical += spec.token_ids == plain.token_ids
        print(json.dumps({"id": p["id"], "text": plain.text, "finish": plain.finish_reason}), flush=True)
    print(
        json.dumps(
            {
                "model": args.model,
                "prompts": len(items),
                "schema_valid": valid,
                "schema_valid_rate": round(valid / len(items), 4),
                "cut_at_max_tokens": cut,
                "speculative_runs": runs,
                "identical_to_constrained_plain": identical,
                "identical_rate": round(identical / runs, 4) if runs else None,
                "methods": methods,
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
