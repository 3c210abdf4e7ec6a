"""Agents use cases: decide a folder of bar windows, write signals, run QuantAgent's benchmark."""

from __future__ import annotations

import csv
import logging
import os
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from oneprice.agents.analysts import analyse
from oneprice.agents.cache import CallCache
from oneprice.agents.callers import BackendCaller, Caller, EngineCaller
from oneprice.agents.pipeline import OUT_COLUMNS, Decision, abstain, decide, rules_only
from oneprice.agents.prompts import DECISIONS, PROMPT_VERSION
from oneprice.agents.window import Window, read_manifest, read_window
from oneprice.core.errors import ParseError
from oneprice.services.container import Services
from oneprice.services.results import INLINE, OMIT_NONE

log = logging.getLogger(__name__)
TF_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "1d": 86400}
SIGNAL_SOURCE = "quantagent"


@dataclass
class PredictReport:
    decisions: list[Decision]
    rejects: dict[str, int] = field(default_factory=dict)  # windows that could not be read, by reason
    seconds: float = 0.0
    llm_calls: int = 0
    signals_written: int = 0

    @property
    def abstain_rate(self) -> float:
        n = len(self.decisions)
        return sum(d.decision == "ABSTAIN" for d in self.decisions) / n if n else 0.0


@dataclass(frozen=True)
class WindowsRead:
    windows: list[Window]  # readable
    unreadable: list[Decision]  # an ABSTAIN row for each unreadable window, with its reason
    rejects: dict[str, int]  # reason -> windows


@dataclass(frozen=True)
class Accuracy:
    accuracy: float | None  # None with nothing scored
    ci95: list[float]  # Wilson interval
    n: int
    abstain_rate: float


@dataclass(frozen=True)
class AfterFees:
    trades: int
    mean_bps: float
    sum_pct: float


@dataclass(frozen=True)
class MethodEval:
    """One decision method on a timeframe's items: accuracy on all, bar-100 and next-bar items, the
    trades' returns after fees, and (rules, fitted baselines) accuracy on every window of it."""

    all: Accuracy
    bar100: Accuracy
    next: Accuracy
    after_fees: AfterFees
    full: Accuracy | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class AgentsMethodEval(MethodEval):
    abstain_reasons: dict[str, int] = field(default_factory=dict)
    quotes_evidence: float = 0.0  # share of decisions whose reasons quote the analysts' evidence
    seconds: float = 0.0
    decisions: dict[str, int] = field(default_factory=dict)  # LONG / SHORT / ABSTAIN counts
    windows_per_min: float | None = None  # LLM speed on the windows not answered from the cache


@dataclass(frozen=True)
class TimeframeEval:
    items: int
    all_items: int
    clusters: int
    rejects: dict[str, int]
    agents: AgentsMethodEval
    methods: dict[str, MethodEval] = field(metadata=INLINE)  # rules, random, the fitted baselines


@dataclass(frozen=True)
class AgentsEval:
    prompt_version: str
    model: str
    fee: float
    per_asset: int | None
    timeframes: dict[str, TimeframeEval] = field(metadata=INLINE)


def model_name(svc: Services, model: str | None) -> str:
    return model or svc.settings.llm_model


def caller_for(svc: Services, model: str | None = None, batch: int = 16, method: str | None = None) -> Caller:
    """The in-process engine (batched, or one by one with speculation) or the configured backend.

    Batched windows decode in plain steps unless ``method`` says otherwise: speculation runs only
    for a lone row, and ``auto`` would first spend a calibration (about 25 s on 2 loaded cores).
    """
    s = svc.settings
    if s.llm_backend == "local":
        from oneprice.services.llm import get_engine

        engine = get_engine(
            model_name(svc, model), s.llm_draft_model, s.llm_dtype, s.llm_device, s.llm_method
        )
        return EngineCaller(engine, batch=batch, method=method or (s.llm_method if batch == 1 else "plain"))
    return BackendCaller(svc.llm)


def cache_for(svc: Services) -> CallCache:
    return CallCache(svc.settings.data_dir / "agents" / "calls.sqlite")


def read_windows(folder: Path, manifest: Path | None) -> WindowsRead:
    """Readable windows, an ABSTAIN row for each unreadable one (with its reason), and reject counts."""
    if not folder.is_dir():
        raise ParseError("not_a_directory", f"{folder} is not a directory")
    names = read_manifest(manifest) if manifest else {}
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise ParseError("no_windows", f"no .csv files in {folder}")
    good: list[Window] = []
    bad: list[Decision] = []
    rejects: dict[str, int] = {}
    for f in files:
        symbol, tf = names.get(f.stem, ("", ""))
        try:
            good.append(read_window(f, symbol, tf))
        except ParseError as exc:
            rejects[exc.reason] = rejects.get(exc.reason, 0) + 1
            bad.append(abstain(f.stem, "unreadable_window", str(exc)))
    return WindowsRead(good, bad, rejects)


def write_decisions(path: Path, decisions: list[Decision]) -> None:
    """The output CSV, written to a temporary file then moved into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=OUT_COLUMNS)
        w.writeheader()
        for d in decisions:
            row = d.row()
            for k in ("stop", "target", "size", "confidence"):
                v = row[k]
                row[k] = "" if v is None else f"{float(v):.6g}"  # type: ignore[arg-type]
            w.writerow(row)
    os.replace(tmp, path)


def write_signals(svc: Services, windows: list[Window], decisions: list[Decision], model: str) -> int:
    """One ``signals`` row per decided window at its last bar's close (+1 LONG, -1 SHORT, 0 ABSTAIN)."""
    from oneprice.db.models_backtest import Signal
    from oneprice.db.upsert import upsert

    by_name = {w.name: w for w in windows}
    rows = []
    for d in decisions:
        w = by_name.get(d.window)
        if w is None or not w.symbol or w.timeframe not in TF_SECONDS:
            continue
        ts = w.ts[-1] + timedelta(seconds=TF_SECONDS[w.timeframe])
        value = {"LONG": 1.0, "SHORT": -1.0}.get(d.decision, 0.0)
        meta = {
            "window": d.window,
            "confidence": d.confidence,
            "stop": d.stop,
            "target": d.target,
            "size": d.size,
            "model": model,
            "prompt_version": PROMPT_VERSION,
            "reason": d.reason,
        }
        rows.append({"source": SIGNAL_SOURCE, "key": w.symbol, "ts": ts, "value": value, "meta": meta})
    if rows:
        with svc.session() as s:
            upsert(s, Signal, rows, keys=("source", "key", "ts"))
    return len(rows)


def predict(
    svc: Services,
    windows_dir: Path,
    out: Path,
    manifest: Path | None = None,
    model: str | None = None,
    batch: int = 16,
    method: str | None = None,
    to_signals: bool = False,
    rules: bool = False,
    threads: int | None = None,
) -> PredictReport:
    """Decide every window of ``windows_dir`` and write ``out`` (``rules``: no LLM, the rules vote).

    ``threads`` sets torch's CPU threads for the in-process engine (fewer than the cores pays on a
    host other processes share: OpenMP threads that wait on each other burn the time slices).
    """
    t0 = time.perf_counter()
    if threads and not rules:
        import torch

        torch.set_num_threads(threads)
    read = read_windows(windows_dir, manifest)
    windows, bad, rejects = read.windows, read.unreadable, read.rejects
    name = "rules" if rules else model_name(svc, model)
    calls = 0
    if rules:
        decided = [rules_only(w) for w in windows]
    else:
        caller = caller_for(svc, model, batch, method)
        cache = cache_for(svc)
        try:
            decided = decide(windows, caller, name, cache)
        finally:
            cache.close()
        calls = caller.stats.calls
    order = {f.stem: i for i, f in enumerate(sorted(windows_dir.glob("*.csv")))}
    decisions = sorted(decided + bad, key=lambda d: order.get(d.window, 0))
    write_decisions(out, decisions)
    n_sig = write_signals(svc, windows, decided, name) if to_signals else 0
    return PredictReport(decisions, rejects, time.perf_counter() - t0, calls, n_sig)


def evaluate(
    svc: Services,
    root: Path,
    timeframes: tuple[str, ...] = ("4h", "1h"),
    per_asset: int | None = 5,
    caller: Caller | None = None,
    model: str | None = None,
    fee: float = 0.001,
    seed: int = 0,
    cache: CallCache | None = None,
) -> AgentsEval:
    """QuantAgent's benchmark under ``root``: agents, rules-only and the baselines, per timeframe.

    ``per_asset`` windows of each asset go to the LLM (None: all); the rules, random, majority and
    fitted baselines are scored on those same items, the fitted ones trained out of fold on every
    window of the timeframe with whole overlap clusters held out.
    """
    from oneprice.agents import benchmark
    from oneprice.agents import evaluate as ev
    from oneprice.backtest.costs import CostModel

    costs = CostModel(fee=fee)
    name = model_name(svc, model)
    caller = caller or caller_for(svc, model)
    cache = cache if cache is not None else cache_for(svc)
    blocks: dict[str, TimeframeEval] = {}
    rng = random.Random(seed)
    try:
        for tf in timeframes:
            items, rejects = benchmark.load(root, tf)
            analyses = [analyse(it.window) for it in items]
            x = np.asarray([[a.features[k] for k in sorted(a.features)] for a in analyses], dtype=float)
            y = np.asarray([it.up for it in items], dtype=bool)
            groups = ev.overlap_clusters([(it.window.ts[0], it.window.ts[-1]) for it in items])
            fitted = ev.fitted_baselines(x, y, groups, seed=seed)
            shuffled = y.copy()
            np.random.default_rng(seed).shuffle(shuffled)
            fitted["logistic_placebo"] = ev.fitted_baselines(x, shuffled, groups, seed=seed)["logistic"]
            chosen = _subset(items, per_asset)
            sub = [items[i] for i in chosen]
            up = [it.up for it in sub]
            t1 = time.perf_counter()
            ds = decide(
                [it.window for it in sub], caller, name, cache, analyses=[analyses[i] for i in chosen]
            )
            secs = time.perf_counter() - t1
            cols: dict[str, list[str]] = {
                "agents": [d.decision for d in ds],
                "rules": [
                    rules_only(it.window, analyses[i]).decision for i, it in zip(chosen, sub, strict=True)
                ],
                "random": [rng.choice(("LONG", "SHORT")) for _ in sub],
            }
            for k, pred in fitted.items():
                cols[k] = ["LONG" if pred[i] else "SHORT" for i in chosen]
            full = {
                "rules": [rules_only(it.window, a).decision for it, a in zip(items, analyses, strict=True)]
            }
            full |= {k: ["LONG" if p else "SHORT" for p in pred] for k, pred in fitted.items()}
            entries: dict[str, dict[str, Any]] = {}
            for k, dec in cols.items():
                entry: dict[str, Any] = {}
                for kind in ("all", "bar100", "next"):
                    keep = [j for j, it in enumerate(sub) if kind == "all" or it.kind == kind]
                    entry[kind] = _accuracy(ev.score([dec[j] for j in keep], [up[j] for j in keep]))
                rets = [ev.trade_return(dec[j], sub[j].entry, sub[j].exit, costs) for j in range(len(sub))]
                r = ev.returns_summary(rets)
                entry["after_fees"] = AfterFees(int(r["trades"]), float(r["mean_bps"]), float(r["sum_pct"]))
                if k in full:
                    entry["full"] = _accuracy(ev.score(full[k], list(y)))
                entries[k] = entry
            fresh = sum(not d.cached for d in ds)
            agents = AgentsMethodEval(
                **entries.pop("agents"),
                abstain_reasons=_reasons(ds),
                quotes_evidence=round(float(np.mean([d.quotes_evidence for d in ds])), 3) if ds else 0.0,
                seconds=round(secs, 1),
                decisions={k: sum(d.decision == k for d in ds) for k in DECISIONS},
                windows_per_min=round(60 * fresh / secs, 2) if fresh and secs > 0 else None,
            )
            blocks[tf] = TimeframeEval(
                items=len(sub),
                all_items=len(items),
                clusters=int(groups.max() + 1),
                rejects=rejects,
                agents=agents,
                methods={k: MethodEval(**e) for k, e in entries.items()},
            )
    finally:
        cache.close()
    return AgentsEval(PROMPT_VERSION, name, fee, per_asset, blocks)


def _accuracy(score: Any) -> Accuracy:
    return Accuracy(**score.as_dict())


def _subset(items: list[Any], per_asset: int | None) -> list[int]:
    if per_asset is None:
        return list(range(len(items)))
    seen: dict[str, set[str]] = {}
    out = []
    for i, it in enumerate(items):
        names = seen.setdefault(it.asset, set())
        if it.window.name in names or len(names) < per_asset:
            names.add(it.window.name)
            out.append(i)
    return out


def _reasons(ds: list[Decision]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in ds:
        if d.decision == "ABSTAIN":
            out[d.reason or "model_abstained"] = out.get(d.reason or "model_abstained", 0) + 1
    return out
