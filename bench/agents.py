"""QuantAgent's benchmark through our agents, against rules-only and fitted baselines, in one process.

    python bench/agents.py [--data ../shared/data/crypto/quantagent_benchmark] [--per-asset 2]
                           [--spec-windows 6] [--threads N] [--model smollm2-135m]

Per timeframe (4h, 1h): accuracy with Wilson 95% intervals of the agents (LLM Decision agent over
the code analysts), the rules-only decision from the same tools, random, majority, logistic
regression and gradient boosting (out of fold, whole overlap clusters held out) and a
shuffled-label logistic placebo; abstain rate; mean return per trade after fees (close of the last
bar read to the close of the bar scored, ``--fee`` per leg through ``backtest.costs``). Items:
bars 1-99 scored on bar 100 ("bar100") and, where another window holds it, bars 1-100 scored on the
bar after ("next"). The LLM sees ``--per-asset`` windows per asset (lowest file numbers); the
baselines are scored on those same items. Throughput: windows per minute batched (plain steps,
``--batch`` rows) and one by one, plain against prompt lookup (the speculative gain), on the same
``--spec-windows`` decision prompts. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data/crypto/quantagent_benchmark"))
    ap.add_argument("--per-asset", type=int, default=2)
    ap.add_argument("--spec-windows", type=int, default=6)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--fee", type=float, default=0.001)
    ap.add_argument("--timeframes", default="4h,1h")
    args = ap.parse_args()

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does: waiting threads sleep
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from oneprice.agents import benchmark
    from oneprice.agents.analysts import analyse
    from oneprice.agents.cache import CallCache
    from oneprice.agents.callers import EngineCaller
    from oneprice.agents.pipeline import default_params
    from oneprice.agents.prompts import decision_messages
    from oneprice.services import agents
    from oneprice.services.container import build_services
    from oneprice.services.llm import get_engine
    from oneprice.services.results import to_json

    svc = build_services()
    s = svc.settings
    model = args.model or s.llm_model
    t0 = time.perf_counter()
    engine = get_engine(model, None, s.llm_dtype, s.llm_device, "plain")
    load_s = time.perf_counter() - t0
    print(f"model {model} on {engine.target.device} {engine.target.dtype}; load {load_s:.1f}s", flush=True)

    # 1) throughput and the speculative gain on the same decision prompts
    items, _ = benchmark.load(args.data, "4h")
    picked, seen = [], set()
    for it in items:
        if it.kind == "bar100" and it.asset not in seen:
            picked.append(it)
            seen.add(it.asset)
    picked += [it for it in items if it.kind == "bar100" and it not in picked]
    picked = picked[: args.spec_windows]
    msgs = [decision_messages(analyse(it.window).text(), it.asset, "4h", len(it.window)) for it in picked]
    params = default_params()
    speed: dict[str, dict[str, float]] = {}
    texts: dict[str, list[str]] = {}
    for label, batch, method in (
        ("sequential_plain", 1, "plain"),
        ("sequential_prompt_lookup", 1, "prompt_lookup"),
        ("batched_plain", args.batch, "plain"),
    ):
        if method == "prompt_lookup" and engine.controller is None:
            engine.calibrate()
        c = EngineCaller(engine, batch=batch, method=method)
        t = time.perf_counter()
        res = c.run(msgs, params)
        dt = time.perf_counter() - t
        texts[label] = [getattr(r, "text", repr(r)) for r in res]
        speed[label] = {
            "seconds": round(dt, 2),
            "windows_per_min": round(60 * len(msgs) / dt, 2),
            "completion_tokens": c.stats.completion_tokens,
        }
        print(label, speed[label], flush=True)
    gain = speed["sequential_plain"]["seconds"] / speed["sequential_prompt_lookup"]["seconds"]
    same = texts["sequential_plain"] == texts["sequential_prompt_lookup"]
    print(f"speculative gain (plain / prompt lookup, one by one): {gain:.2f}x; identical output: {same}")

    # 2) accuracy: agents (batched), rules-only and baselines, per timeframe
    caller = EngineCaller(engine, batch=args.batch, method="plain")
    res = agents.evaluate(
        svc,
        args.data,
        tuple(args.timeframes.split(",")),
        args.per_asset,
        caller=caller,
        model=model,
        fee=args.fee,
        cache=CallCache(None),  # every call fresh: the timings are real
    )
    names = ("agents", "rules", "random", "majority", "logistic", "gboost", "logistic_placebo")
    for tf in args.timeframes.split(","):
        b = res.timeframes[tf]
        methods = {"agents": b.agents, **b.methods}
        print(f"--- {tf}: {b.items} items ({b.all_items} in all, {b.clusters} overlap clusters)")
        for k in names:
            a, f = methods[k].all, methods[k].after_fees
            print(
                f"{k:17s} acc {a.accuracy} {a.ci95} n={a.n} abstain {a.abstain_rate} "
                f"mean {f.mean_bps} bps/trade"
            )
    out = {
        "model": model,
        "device": str(engine.target.device),
        "dtype": str(engine.target.dtype).replace("torch.", ""),
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "subset": f"{args.per_asset} windows per asset per timeframe (lowest file numbers)",
        "fee_per_leg": args.fee,
        "speculative_gain": round(gain, 3),
        "speculative_identical_output": same,
        "windows_per_min": {k: v["windows_per_min"] for k, v in speed.items()},
        "spec_windows": len(msgs),
    }
    for tf in args.timeframes.split(","):
        b = res.timeframes[tf]
        methods = {"agents": b.agents, **b.methods}
        out[tf] = {
            k: {
                "accuracy": m.all.accuracy,
                "ci95": m.all.ci95,
                "n": m.all.n,
                "abstain_rate": m.all.abstain_rate,
                "bar100_accuracy": m.bar100.accuracy,
                "next_accuracy": m.next.accuracy,
                "mean_bps_after_fees": m.after_fees.mean_bps,
                **({"all_items": to_json(m.full)} if m.full is not None else {}),
            }
            for k, m in ((k, methods[k]) for k in names)
        }
        out[tf]["items"] = b.items
        out[tf]["agents"]["windows_per_min"] = b.agents.windows_per_min
        out[tf]["agents"]["abstain_reasons"] = b.agents.abstain_reasons
        out[tf]["agents"]["quotes_evidence"] = b.agents.quotes_evidence
        out[tf]["agents"]["decisions"] = b.agents.decisions
    pc = engine.prefix_cache
    out["prefix_cache"] = {"hits": pc.hits, "reused_tokens": pc.reused_tokens} if pc is not None else None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
