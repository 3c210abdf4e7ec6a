"""The bundled real-data snapshot (package data) and its readers. Format: ``FORMAT.md`` beside this file."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from typing import Any

PACKAGE = "oneprice.ingest.snapshot"


def _text(name: str) -> str:
    return gzip.decompress(resources.files(PACKAGE).joinpath(name).read_bytes()).decode()


def manifest() -> dict[str, Any]:
    return json.loads(resources.files(PACKAGE).joinpath("manifest.json").read_text())


@lru_cache(maxsize=1)
def market_records() -> tuple[dict[str, Any], ...]:
    """Every market record, in file order (Kalshi listing, Polymarket listing, then candidate-pair extras)."""
    return tuple(json.loads(line) for line in _text("markets.jsonl.gz").splitlines() if line.strip())


@lru_cache(maxsize=1)
def quote_records() -> tuple[dict[str, str], ...]:
    """Recorded quotes: venue, id, ts (UTC ISO), yes_bid, yes_ask, no_bid, no_ask (probabilities as text)."""
    return tuple(csv.DictReader(io.StringIO(_text("quotes.csv.gz"))))


def bar_records() -> Iterator[list[str]]:
    """Bar rows: exchange, symbol, timeframe, ts (epoch s, open time), open, high, low, close, volume."""
    reader = csv.reader(io.StringIO(_text("bars.csv.gz")))
    next(reader)
    yield from reader
