"""`oneprice align` commands: eval --json shape, train, run, list, decide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oneprice.cli.main import app

from .align_helpers import ALIGN_FIXTURES

runner = CliRunner()


@pytest.mark.slow
@pytest.mark.xdist_group("alignment-model")  # shares the embedding cache with test_pipeline's training
def test_eval_labels_json_has_the_issue_shape() -> None:
    res = runner.invoke(app, ["align", "eval", "--labels", str(ALIGN_FIXTURES / "pairs.csv"), "--json"])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, res.stdout
    out = json.loads(lines[0])
    assert {"model", "baselines"} <= set(out) <= {"model", "baselines", "calibration", "n", "train_pairs"}
    assert set(out["model"]) == {"hedgeable", "relations"}
    cal = out["calibration"]  # P(same) against hedgeable truth: a Brier score and a reliability table
    assert 0 <= cal["brier"] <= 1 and sum(row["n"] for row in cal["reliability"]) == out["n"]
    assert set(out["baselines"]) == {"fuzzy", "cosine", "rules_only"}  # rules_only: the model, no reader
    for block in (out["model"]["hedgeable"], *(b["hedgeable"] for b in out["baselines"].values())):
        assert set(block) == {"precision", "recall", "f1"} and all(0 <= v <= 1 for v in block.values())
    assert "equivalent" in out["model"]["relations"] and "inverse" in out["model"]["relations"]


def test_eval_needs_exactly_one_mode() -> None:
    res = runner.invoke(app, ["align", "eval"])
    assert res.exit_code == 2 and "exactly one" in res.output


def test_eval_rejects_a_file_without_label_columns(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    res = runner.invoke(app, ["align", "eval", "--labels", str(bad)])
    assert res.exit_code == 2 and "missing_columns" in res.output


def test_decide_unknown_match_is_a_clear_error() -> None:
    res = runner.invoke(app, ["align", "decide", "999", "confirmed"])
    assert res.exit_code == 3 and "no match with id 999" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["align", "decide", "1", "perhaps"])
    assert res.exit_code == 2 and "'confirmed', 'rejected'" in res.output
