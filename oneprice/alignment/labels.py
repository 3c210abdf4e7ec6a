"""Labeled market pairs: the shipped set (package data), user files, and event groups for CV."""

from __future__ import annotations

import csv
import gzip
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

from oneprice.alignment.relations import RELATIONS, swap
from oneprice.core.errors import ParseError
from oneprice.core.types import Market, utc
from oneprice.core.venues import describe

log = logging.getLogger(__name__)
REQUIRED = ("venue_a", "id_a", "question_a", "venue_b", "id_b", "question_b", "relation")


@dataclass(frozen=True)
class LabeledPair:
    a: Market
    b: Market
    relation: str
    key: str
    source: str = ""
    group: str = field(default="", compare=False)


def venue_name(raw: str) -> str:
    """Canonical venue key: 'Kalshi-Election' and 'Kalshi' are both 'kalshi'."""
    v = raw.strip().lower()
    return "kalshi" if v.startswith("kalshi") else v


def event_of(venue: str, market_id: str) -> str | None:
    """The event id inside a market id where the venue builds one from the other (Kalshi's event ticker
    is the market ticker without its last segment)."""
    if describe(venue).event_in_market_id and "-" in market_id:
        return market_id.rsplit("-", 1)[0]
    return None


def _date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return utc(datetime.fromisoformat(raw.strip().replace("Z", "+00:00")))
    except ValueError:
        return None


def _market(row: dict[str, str], side: str) -> Market:
    venue = venue_name(row[f"venue_{side}"])
    mid = row[f"id_{side}"].strip()
    return Market(
        venue=venue,
        market_id=mid,
        question=row[f"question_{side}"].strip(),
        rules=(row.get(f"description_{side}") or "").strip(),
        close_time=_date(row.get(f"end_date_{side}")),
        event_id=event_of(venue, mid),
    )


def read_pairs(path: Path | None = None) -> tuple[list[LabeledPair], Counter[str]]:
    """Labeled pairs from ``path`` (CSV or CSV.gz in the shipped format; default the shipped set).

    Malformed rows are skipped and counted by reason; so is a row repeating a pair and its relation (in
    either orientation: ``duplicate``), so a repeated row never counts twice in training or in a score.
    Rows giving one pair different relations are all kept (the labelers disagreed) and logged.
    """
    if path is None:
        raw = resources.files("oneprice.alignment").joinpath("data/labels.csv.gz").read_bytes()
    else:
        raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ParseError("missing_columns", ", ".join(missing))
    pairs: list[LabeledPair] = []
    rejects: Counter[str] = Counter()
    seen: set[tuple[tuple[str, str], tuple[str, str], str]] = set()
    pair_seen: set[tuple[tuple[str, str], tuple[str, str]]] = set()
    conflicting = 0
    for row in reader:
        rel = (row.get("relation") or "").strip()
        if rel not in RELATIONS:
            rejects["bad_relation"] += 1
            continue
        if not all((row.get(c) or "").strip() for c in REQUIRED):
            rejects["missing_field"] += 1
            continue
        a, b = _market(row, "a"), _market(row, "b")
        ka, kb = (a.venue, a.market_id), (b.venue, b.market_id)
        ident = (ka, kb, rel) if ka <= kb else (kb, ka, swap(rel))
        if ident in seen:
            rejects["duplicate"] += 1
            continue
        conflicting += ident[:2] in pair_seen
        seen.add(ident)
        pair_seen.add(ident[:2])
        key = row.get("pair_key") or f"{a.venue}:{a.market_id}|{b.venue}:{b.market_id}"
        pairs.append(LabeledPair(a, b, rel, key, (row.get("source") or "").strip()))
    if conflicting:
        log.warning("%d labeled pairs are given again with another relation; all kept", conflicting)
    if rejects:
        log.warning("skipped %d label rows: %s", sum(rejects.values()), dict(rejects))
    return with_groups(pairs), rejects


def _node(m: Market) -> str:
    return f"ev:{m.event_id}" if m.event_id else f"m:{m.venue}:{m.market_id}"


def family_of(m: Market) -> str | None:
    """A Kalshi market's event family: its series without the venue prefix and the year or edition
    ("KXPRESROMANIA24-VP" and "PRESROMANIA25-..." are one contest), so a family's markets share a fold."""
    if not m.venue.startswith("kalshi"):
        return None
    series = re.sub(r"\d+$", "", m.market_id.split("-", 1)[0].upper().removeprefix("KX"))
    return f"fam:{series}" if series else None


def with_groups(pairs: list[LabeledPair]) -> list[LabeledPair]:
    """Give each pair a group: connected components over events, event families (a Kalshi series) and
    markets, so siblings and whole contests stay together."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: str, y: str) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    for p in pairs:
        union(_node(p.a), _node(p.b))
        for m in (p.a, p.b):
            fam = family_of(m)
            if fam:
                union(_node(m), fam)
    return [LabeledPair(p.a, p.b, p.relation, p.key, p.source, find(_node(p.a))) for p in pairs]


def market_keys(pairs: list[LabeledPair]) -> set[str]:
    """Every market and Kalshi event the pairs touch (to keep a test file out of training)."""
    out: set[str] = set()
    for p in pairs:
        for m in (p.a, p.b):
            out.add(f"m:{m.venue}:{m.market_id}")
            if m.event_id:
                out.add(f"ev:{m.event_id}")
    return out


def touches(p: LabeledPair, keys: set[str]) -> bool:
    return bool(market_keys([p]) & keys)
