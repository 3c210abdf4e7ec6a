"""QuantAgent's benchmark layout (``<timeframe>/<asset>/<ASSET>_<tf>_<n>.csv``, 100 bars per window).

Each window gives one item scored on bar 100 from bars 1-99, and, where another window of the same
asset holds the bar after this window's last bar (same timestamp and close at the join), a second
item scored on that bar from all 100 bars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from oneprice.agents.window import Window, read_window
from oneprice.core.errors import ParseError


@dataclass(frozen=True)
class Item:
    window: Window  # the bars the agents read
    asset: str
    timeframe: str
    entry: float  # the last close read
    exit: float  # the close of the bar scored
    kind: str  # "bar100" (bars 1-99 -> 100) | "next" (bars 1-100 -> the bar after, from another window)

    @property
    def up(self) -> bool:
        return self.exit > self.entry


def _num(p: Path) -> int:
    m = re.search(r"_(\d+)$", p.stem)
    return int(m.group(1)) if m else 0


def load(root: Path, timeframe: str, per_asset: int | None = None) -> tuple[list[Item], dict[str, int]]:
    """Items of one timeframe; ``per_asset`` keeps the lowest-numbered windows of each asset."""
    items: list[Item] = []
    rejects: dict[str, int] = {}
    for adir in sorted(p for p in (root / timeframe).iterdir() if p.is_dir()):
        asset = adir.name.upper()
        wins: list[Window] = []
        for f in sorted(adir.glob("*.csv"), key=_num):
            try:
                wins.append(read_window(f, asset, timeframe))
            except ParseError as exc:
                rejects[exc.reason] = rejects.get(exc.reason, 0) + 1
        where: dict[object, list[tuple[int, int]]] = {}
        for wi, w in enumerate(wins):
            for j, t in enumerate(w.ts):
                where.setdefault(t, []).append((wi, j))
        chosen = wins[:per_asset] if per_asset else wins
        for wi, w in enumerate(chosen):
            if len(w) >= 2:
                items.append(
                    Item(
                        w.head(len(w) - 1), asset, timeframe, float(w.close[-2]), float(w.close[-1]), "bar100"
                    )
                )
            for vi, j in where.get(w.ts[-1], []):
                v = wins[vi]
                if vi != wi and j + 1 < len(v) and v.close[j] == w.close[-1]:
                    items.append(Item(w, asset, timeframe, float(w.close[-1]), float(v.close[j + 1]), "next"))
                    break
    return items, rejects
