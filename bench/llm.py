"""Speculative decoding vs plain decoding vs Hugging Face generate(), in one process.

Default: Qwen2.5-Coder-1.5B-Instruct target, 0.5B draft, bf16, over bench/prompts/llm_suite.json.
For every prompt: tokens/s of our plain path, ``auto`` and each of our proposers under the controller,
HF greedy, HF prompt lookup and HF assisted generation; acceptance metrics; whether each output equals
our plain greedy output. All speeds are end to end (prefill included, one timer around the whole call,
for ours and HF's alike). Each prompt runs ``--rounds`` interleaved rounds of every contender (order
rotated per round); a figure is a contender's best round (bursts of load elsewhere only slow runs
down), and ``paired_vs_plain`` also gives the median of same-round ratios. The fp32 check (always;
``--fp32-model``, SmolLM2-135M by default) re-runs every proposer, forced to speculate, in fp32 and
checks token-for-token identity with plain greedy.
Also measured: constrained decoding's overhead (the same prompts under an any-JSON-object grammar
against free decoding, tokens/s), and the prefix cache's gain on agent-like requests that share a
long system prompt (seconds per request without the cache / with it). ``--noisy`` starts a CPU-bound
neighbour process for the whole run.
Our engine pre-packs its linear layers on CPU (``models/llm/packing.py``; ``--no-pack`` turns that off);
HF generate() runs on separate, unpacked copies, as transformers loads them. ``plain_vs_hf_generate``
is the kernel gain alone, ``speculation_gain_vs_hf`` the speculation gain alone (ours over our plain
path against HF's best over HF's plain path), ``vs_hf_best`` both together.
Last line: one JSON object.

    .venv/bin/oneprice llm fetch qwen2.5-coder-1.5b qwen2.5-coder-0.5b
    .venv/bin/python bench/llm.py --fp32-check          # full (about 15 minutes on 2 cores)
    .venv/bin/python bench/llm.py --quick               # SmolLM2-135M, no draft
    .venv/bin/python bench/llm.py --quick --dtype fp32 --threads 1   # fastest on an AVX2-only host
    .venv/bin/python bench/llm.py --quick --noisy       # the same with a busy neighbour on the CPU
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch

from oneprice.models.llm.controller import FixedController
from oneprice.models.llm.engine import Engine
from oneprice.models.llm.loader import load
from oneprice.models.llm.sampling import SamplingParams

SUITE = Path(__file__).parent / "prompts" / "llm_suite.json"
FORCED_K = {"prompt_lookup": 8, "token_recycling": 16, "draft": 4}
NEIGHBOUR = "import time\nwhile True:\n    sum(i * i for i in range(100000))\n"


def geomean(xs: list[float]) -> float:
    xs = [x for x in xs if x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def hf_run(model: Any, ids: list[int], n: int, eos: set[int], **kw: Any) -> tuple[list[int], float]:
    t0 = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(torch.tensor([ids]), max_new_tokens=n, do_sample=False, **kw)
    dt = time.perf_counter() - t0
    toks = out[0, len(ids) :].tolist()
    for i, t in enumerate(toks):
        if t in eos:
            return toks[:i], dt
    return toks, dt


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def run_suite(
    engine: Engine,
    suite: list[dict[str, Any]],
    methods: list[str],
    n: int,
    hf: tuple[Any, Any] | None,
    rounds: int,
) -> list[dict[str, Any]]:
    """``hf``: (target, draft) models as transformers loads them (not packed), or None to skip HF.

    Each prompt runs ``rounds`` rounds; a round runs plain, every method, constrained plain and HF's
    runs back to back, in an order rotated from round to round. Each one's ``tok_s`` is its best round
    (the least disturbed run: bursts of load elsewhere on the host only ever slow a run down), its
    ``vs_plain`` that over plain's best round; ``paired_vs_plain`` is the median over rounds of its
    tokens/s over plain's in the same round, and ``runs`` every round's figure.
    """
    rows = []
    for item in suite:
        ids = engine.encode_chat(item["messages"])
        res: dict[str, Any] = {"id": item["id"], "kind": item["kind"], "prompt_tokens": len(ids)}
        # warm this prompt's shapes first (oneDNN builds kernels per shape), so no run pays for that
        engine.generate(ids, SamplingParams(max_new_tokens=2, method="plain"))
        eos = engine.eos_ids
        hf_runs: dict[str, dict[str, Any]] = {}
        if hf is not None:
            hf_model, hf_draft = hf
            hf_runs = {"hf_plain": {}, "hf_prompt_lookup": {"prompt_lookup_num_tokens": 10}}
            if hf_draft is not None:
                hf_runs["hf_assisted"] = {"assistant_model": hf_draft}
            hf_run(hf_model, ids, 2, eos)  # warm this prompt's shapes for HF's model too
        keys = ["plain", *methods, "constrained", *hf_runs]
        got: dict[str, list[tuple[float, list[int], Any]]] = {k: [] for k in keys}
        for r in range(rounds):
            order = keys[r % len(keys) :] + keys[: r % len(keys)]
            for key in order:
                if key in hf_runs:
                    toks, dt = hf_run(hf[0], ids, n, eos, **hf_runs[key])  # type: ignore[index]
                    got[key].append((len(toks) / dt, toks, None))  # end to end, as ours
                    continue
                m = "plain" if key == "constrained" else key
                schema = {} if key == "constrained" else None  # any JSON object
                c = engine.generate(ids, SamplingParams(max_new_tokens=n, method=m, json_schema=schema))
                got[key].append((c.tokens_per_s, c.token_ids, c.metrics))
        plain_toks = got["plain"][0][1]
        plain_rate = [x[0] for x in got["plain"]]
        res["plain"] = {"tok_s": max(plain_rate), "tokens": len(plain_toks), "runs": plain_rate}
        for key in keys[1:]:
            rates = [x[0] for x in got[key]]
            paired = median([a / b for a, b in zip(rates, plain_rate, strict=True)])
            entry: dict[str, Any] = {"tok_s": max(rates), "vs_plain": max(rates) / max(plain_rate)}
            entry |= {"paired_vs_plain": paired, "runs": rates}
            if key != "constrained":
                entry["identical"] = all(x[1] == plain_toks for x in got[key])
            metrics = [x[2] for x in got[key] if x[2] is not None]
            if metrics:
                entry.update(metrics[-1].as_dict())
            res[key] = entry
        res["constrained_vs_free"] = res.pop("constrained")["vs_plain"]
        rows.append(res)
        brief = {k: (round(v["tok_s"], 2) if isinstance(v, dict) else v) for k, v in res.items()}
        brief |= {f"{m}_vs_plain": round(res[m]["vs_plain"], 3) for m in methods}
        brief |= {f"{m}_paired": round(res[m]["paired_vs_plain"], 3) for m in methods}
        brief["runs"] = {k: [round(x, 2) for x in v["runs"]] for k, v in res.items() if isinstance(v, dict)}
        print(json.dumps(brief), flush=True)
    return rows


def prefix_gain(engine: Engine, n: int, requests: int = 4) -> float:
    """Seconds per agent-like request (one long shared system prompt) without / with the prefix cache."""
    system = json.loads(SUITE.read_text())[0]["messages"][1]["content"]  # a long market-data block
    asks = ["Which candle had the highest volume?", "Was the last close above the first open?"]
    asks += ["Give the highest high.", "Give the lowest low."]
    convos = [
        [
            {"role": "system", "content": "You are a trading agent. Data:\n" + system},
            {"role": "user", "content": a},
        ]
        for a in asks[:requests]
    ]
    times = {}
    keep = engine.prefix_cache
    for label, cache in (("off", None), ("on", keep)):
        engine.prefix_cache = cache
        if cache is not None:
            cache.clear()
        t0 = time.perf_counter()
        for msgs in convos:
            engine.generate(engine.encode_chat(msgs), SamplingParams(max_new_tokens=n, method="plain"))
        times[label] = (time.perf_counter() - t0) / len(convos)
    engine.prefix_cache = keep
    return times["off"] / times["on"]


def fp32_check(args: argparse.Namespace, suite: list[dict[str, Any]], methods: list[str]) -> bool:
    """Every proposer, forced to speculate, reproduces plain fp32 greedy token for token."""
    target = load(args.fp32_model, dtype="fp32", device=args.device)
    fp32_draft = args.fp32_draft if args.fp32_draft is not None else args.fp32_model
    draft = load(fp32_draft, dtype="bf16", device=args.device) if fp32_draft else None
    engine = Engine(target, draft)
    methods = [m for m in methods if m != "auto" and (m != "draft" or draft is not None)]
    ok = True
    for item in suite:
        ids = engine.encode_chat(item["messages"])
        engine.controller = None
        plain = engine.generate(ids, SamplingParams(max_new_tokens=args.fp32_tokens, method="plain"))
        for m in methods:
            engine.controller = FixedController(FORCED_K.get(m, 4))
            c = engine.generate(ids, SamplingParams(max_new_tokens=args.fp32_tokens, method=m))
            same = c.token_ids == plain.token_ids
            ok &= same
            print(f"fp32 {item['id']:20s} {m:16s} identical={same} drafts={c.metrics.drafts}", flush=True)
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--draft", default="qwen2.5-coder-0.5b", help="'' for none")
    ap.add_argument("--dtype", default="bf16")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="64 (--quick: 32)")
    ap.add_argument("--prompts", default="", help="comma-separated prompt ids (default: all)")
    ap.add_argument("--methods", default="auto,prompt_lookup,token_recycling,draft")
    ap.add_argument("--no-hf", action="store_true", help="skip the Hugging Face baselines")
    ap.add_argument("--no-pack", action="store_true", help="decode with F.linear (no pre-packed weights)")
    ap.add_argument("--fp32-model", default="smollm2-135m", help="the fp32 identity check's target")
    ap.add_argument("--fp32-draft", default=None, help="its draft (default: a bf16 copy of the target)")
    ap.add_argument("--fp32-tokens", type=int, default=24)
    ap.add_argument("--noisy", action="store_true", help="run a CPU-bound neighbour process throughout")
    ap.add_argument("--quick", action="store_true", help="SmolLM2-135M, no draft, 32 tokens")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved runs per prompt and method")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.model, args.draft, args.fp32_tokens = "smollm2-135m", "", 16
        args.max_new_tokens = args.max_new_tokens or 32
        args.fp32_draft = ""
    args.max_new_tokens = args.max_new_tokens or 64
    suite = json.loads(SUITE.read_text())
    if args.prompts:
        wanted = set(args.prompts.split(","))
        suite = [s for s in suite if s["id"] in wanted]
    methods = [m for m in args.methods.split(",") if m and (m != "draft" or args.draft)]
    neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR]) if args.noisy else None
    try:
        run(args, suite, methods)
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()


def run(args: argparse.Namespace, suite: list[dict[str, Any]], methods: list[str]) -> None:
    t0 = time.perf_counter()
    target = load(args.model, dtype=args.dtype, device=args.device)
    draft = load(args.draft, dtype=args.dtype, device=args.device) if args.draft else None
    hf = None
    if not args.no_hf:  # HF generate() runs on its own copies, loaded as transformers loads them
        hf_target = load(args.model, dtype=args.dtype, device=args.device).model
        hf_draft = load(args.draft, dtype=args.dtype, device=args.device).model if args.draft else None
        hf = (hf_target, hf_draft)
    engine = Engine(target, draft, pack=not args.no_pack)
    print(
        f"loaded {args.model} (+{args.draft or 'no draft'}) {target.dtype} on {target.device} "
        f"in {time.perf_counter() - t0:.1f}s; threads={torch.get_num_threads()}",
        flush=True,
    )
    engine.generate(engine.encode("Warm-up."), SamplingParams(max_new_tokens=4, method="plain"))
    ctl = engine.calibrate()
    print("T(n) ms:", {n: round(t * 1000, 1) for n, t in ctl.cost.table.items()}, flush=True)
    rows = run_suite(engine, suite, methods, args.max_new_tokens, hf, args.rounds)

    ours = [r[m]["vs_plain"] for r in rows for m in methods]
    auto = [r["auto"]["vs_plain"] for r in rows if "auto" in r]
    cache_gain = prefix_gain(engine, 8)
    copy = [r for r in rows if r["kind"] == "copy"]
    per_method = {m: geomean([r[m]["vs_plain"] for r in copy]) for m in methods if m != "auto"}
    best = max(per_method, key=lambda m: per_method[m]) if per_method else None
    hf_keys = [k for k in ("hf_prompt_lookup", "hf_assisted") if copy and k in copy[0]]
    vs_hf = (
        geomean([r[best]["tok_s"] / max(r[k]["tok_s"] for k in hf_keys) for r in copy])
        if best and hf_keys
        else None
    )
    vs_hf_plain = (
        geomean([r["plain"]["tok_s"] / r["hf_plain"]["tok_s"] for r in rows])
        if "hf_plain" in rows[0]
        else None
    )
    # speculation alone: our gain over our plain path against HF's best gain over HF's plain path
    spec_vs_hf = (
        geomean(
            [
                (r[best]["tok_s"] / r["plain"]["tok_s"])
                / (max(r[k]["tok_s"] for k in hf_keys) / r["hf_plain"]["tok_s"])
                for r in copy
            ]
        )
        if best and hf_keys and "hf_plain" in copy[0]
        else None
    )
    summary: dict[str, Any] = {
        "model": args.model,
        "draft": args.draft or None,
        "dtype": args.dtype,
        "device": str(target.device),
        "max_new_tokens": args.max_new_tokens,
        "noisy_neighbour": args.noisy,
        "rounds": args.rounds,
        "threads": torch.get_num_threads(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "min_controller_vs_plain": round(min(ours), 3) if ours else None,
        "min_auto_vs_plain": round(min(auto), 3) if auto else None,
        "vs_plain_by_method": {m: round(min(r[m]["vs_plain"] for r in rows), 3) for m in methods},
        "paired_vs_plain_by_method": {
            m: round(min(r[m]["paired_vs_plain"] for r in rows), 3) for m in methods
        },
        "copy_heavy_auto_speedup": round(geomean([r["auto"]["vs_plain"] for r in copy]), 3) if auto else None,
        "constrained_vs_free_tok_s": round(geomean([r["constrained_vs_free"] for r in rows]), 3),
        "prefix_cache_gain": round(cache_gain, 3),
        "copy_heavy_speedup": round(per_method[best], 3) if best else None,
        "copy_heavy_best_method": best,
        "copy_heavy_speedup_by_method": {m: round(v, 3) for m, v in per_method.items()},
        "vs_hf_best": round(vs_hf, 3) if vs_hf else None,
        "plain_vs_hf_generate": round(vs_hf_plain, 3) if vs_hf_plain else None,
        "speculation_gain_vs_hf": round(spec_vs_hf, 3) if spec_vs_hf else None,
        "packed_linears": not args.no_pack,
        "identical_to_plain": {m: all(r[m]["identical"] for r in rows) for m in methods},
        "hf_identical_to_plain": {
            k: all(r[k]["identical"] for r in rows)
            for k in ("hf_plain", "hf_prompt_lookup", "hf_assisted")
            if k in rows[0]
        },
        "acceptance": {
            m: {k: sum(r[m][k] for r in rows) for k in ("drafts", "draft_tokens", "accepted_tokens")}
            for m in methods
        },
    }
    del engine, target, draft, hf
    summary["all_identical_fp32"] = fp32_check(args, suite, methods)
    summary["fp32_model"] = args.fp32_model
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
