"""A labels file with repeated rows: each pair counts once; a test file leaving nothing to train on is
refused in one line instead of scoring 0.0."""

from __future__ import annotations

import csv
import gzip
import io
from importlib import resources
from pathlib import Path

import pytest

from oneprice.alignment.evaluate import evaluate_holdout
from oneprice.alignment.labels import read_pairs
from oneprice.core.errors import InputError


def _rows() -> tuple[list[str], list[dict[str, str]]]:
    raw = resources.files("oneprice.alignment").joinpath("data/labels.csv.gz").read_bytes()
    reader = csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8")))
    return list(reader.fieldnames or []), list(reader)


def _write(path: Path, cols: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, cols)
        w.writeheader()
        w.writerows(rows)
    return path


def _flip(r: dict[str, str]) -> dict[str, str]:
    out = dict(r)
    for f in ("venue", "id", "question", "description", "end_date"):
        if f"{f}_a" in r:
            out[f"{f}_a"], out[f"{f}_b"] = r[f"{f}_b"], r[f"{f}_a"]
    swap = {"a_implies_b": "b_implies_a", "b_implies_a": "a_implies_b"}
    out["relation"] = swap.get(r["relation"], r["relation"])
    return out


def test_repeated_rows_count_once_in_either_orientation(tmp_path: Path) -> None:
    cols, rows = _rows()
    some = rows[:30]
    path = _write(tmp_path / "dup.csv", cols, some + some[:10] + [_flip(r) for r in some[10:15]])
    pairs, rejects = read_pairs(path)
    assert len(pairs) == 30 and rejects == {"duplicate": 15}
    once, _ = read_pairs(_write(tmp_path / "once.csv", cols, some))
    assert [p.key for p in pairs] == [p.key for p in once]


def test_a_test_file_leaving_nothing_to_train_on_is_refused() -> None:
    pairs, _ = read_pairs()
    with pytest.raises(InputError, match="only 0 training pairs") as exc:
        evaluate_holdout([], pairs[:50], embedder=None)  # type: ignore[arg-type]  # refused before use
    assert "\n" not in str(exc.value)
    with pytest.raises(InputError, match="0 hedgeable"):
        nohedge = [p for p in pairs if p.relation == "unrelated"][:40]
        evaluate_holdout(nohedge, pairs[:5], embedder=None)  # type: ignore[arg-type]
