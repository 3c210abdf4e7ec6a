"""``services.agents.evaluate`` on a small benchmark layout built from the fixture windows."""

from __future__ import annotations

import shutil
from pathlib import Path

from oneprice.agents import benchmark
from oneprice.agents.cache import CallCache
from oneprice.agents.callers import BackendCaller
from oneprice.services import agents
from oneprice.services.container import build_services
from oneprice.services.results import to_json
from tests.agents.conftest import ScriptedBackend, good


def _layout(tmp: Path, windows_dir: Path) -> Path:
    for f in windows_dir.glob("*_4h_*.csv"):
        d = tmp / "4h" / f.stem.split("_")[0].lower()
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, d / f.name)
    return tmp


def test_benchmark_items_score_bar_100_from_bars_1_to_99(tmp_path: Path, windows_dir: Path) -> None:
    items, rejects = benchmark.load(_layout(tmp_path, windows_dir), "4h")
    first = [it for it in items if it.kind == "bar100"]
    assert len(first) == 4 and not rejects
    for it in first:
        assert len(it.window) == 99 and it.entry == it.window.close[-1]


def test_evaluate_calls_the_llm_for_every_item_and_scores_all_baselines(
    tmp_path: Path, windows_dir: Path
) -> None:
    root = _layout(tmp_path, windows_dir)
    be = ScriptedBackend([good("LONG"), "garbage"])
    empty = CallCache(None)
    assert empty  # an empty cache is still used, not replaced by the on-disk one
    res = agents.evaluate(
        build_services(), root, ("4h",), None, caller=BackendCaller(be), cache=empty, model="m"
    )
    b = res.timeframes["4h"]
    assert len(be.seen) == b.items >= 4
    assert b.agents.all.n == 1 and b.agents.all.abstain_rate > 0  # 1 LONG, the rest garbage
    [(reason, count)] = b.agents.abstain_reasons.items()
    assert "json" in reason and count == b.items - 1  # no_json / invalid_json: the parser's code
    for k in ("rules", "random", "majority", "logistic", "gboost", "logistic_placebo"):
        lo, hi = b.methods[k].all.ci95
        assert 0 <= lo <= hi <= 1 and b.methods[k].all.n == b.items
        assert isinstance(b.methods[k].after_fees.mean_bps, float)
    # the JSON of `agents eval` keeps its shape: timeframes and methods are keys of their parent
    shape = to_json(res)
    assert set(shape) == {"prompt_version", "model", "fee", "per_asset", "4h"}
    assert "mean_bps" in shape["4h"]["rules"]["after_fees"] and "full" in shape["4h"]["rules"]
    assert "full" not in shape["4h"]["agents"] and "windows_per_min" in shape["4h"]["agents"]
