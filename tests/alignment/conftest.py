"""Alignment fixtures: a small training label set, a shared embedding cache, a DB of real markets."""

from __future__ import annotations

import csv
import gzip
import io
import random
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from .align_helpers import ALIGN_FIXTURES


def shipped_rows() -> list[dict[str, str]]:
    raw = resources.files("oneprice.alignment").joinpath("data/labels.csv.gz").read_bytes()
    return list(csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))


def fixture_rows() -> list[dict[str, str]]:
    with (ALIGN_FIXTURES / "pairs.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="session")
def small_labels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-pair training subset of the shipped labels (keeps tests to a few hundred embeddings)."""
    rows = shipped_rows()
    fixture_keys = {r["pair_key"] for r in fixture_rows()}
    rest = [r for r in rows if r["pair_key"] not in fixture_keys]
    random.Random(11).shuffle(rest)
    picked = [r for r in rows if r["pair_key"] in fixture_keys] + rest[:220]
    return write_rows(tmp_path_factory.mktemp("labels") / "small.csv", picked)


@pytest.fixture(scope="session")
def embed_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embcache")


@pytest.fixture(autouse=True)
def _align_env(small_labels: Path, embed_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from oneprice.config import get_settings

    monkeypatch.setenv("ONEPRICE_ALIGN_LABELS", str(small_labels))
    monkeypatch.setenv("ONEPRICE_EMBED_CACHE_DIR", str(embed_cache))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory, small_labels: Path, embed_cache: Path) -> Path:
    """A model trained once per session through the service; tests copy it into their data dir."""
    from oneprice.services import alignment
    from oneprice.services.container import build_services

    data = tmp_path_factory.mktemp("trained")
    svc = build_services(
        data_dir=data,
        align_labels=small_labels,
        embed_cache_dir=embed_cache,
        db_url=f"sqlite:///{data / 'train.sqlite'}",
    )
    try:
        alignment.train(svc)
    finally:
        svc.close()
    return data / "alignment" / "model.pkl"


@pytest.fixture
def with_model(trained_model: Path) -> Path:
    """Install the session's trained model in this test's data dir."""
    from oneprice.services import alignment
    from oneprice.services.container import build_services

    dest = alignment.model_file(build_services())
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(trained_model.read_bytes())
    return dest
