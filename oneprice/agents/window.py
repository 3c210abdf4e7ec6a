"""A window of bars in QuantAgent's CSV format (``Datetime,Close,High,Low,Open,Volume``, oldest first).

A malformed row (unparsable number, High below Low, a close outside its bar, a timestamp out of
order) is skipped and counted with its reason; a file without the columns, or with too few good
rows left, raises ``ParseError`` with a one-line reason.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from oneprice.core.errors import ParseError

COLUMNS = ("Datetime", "Close", "High", "Low", "Open", "Volume")
MIN_GOOD_BARS = 35  # MACD(12, 26, 9) needs 34 bars for one valid value


@dataclass(frozen=True)
class Window:
    name: str
    ts: tuple[datetime, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    symbol: str = ""
    timeframe: str = ""
    rejects: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.close)

    def head(self, n: int) -> Window:
        """The first ``n`` bars (bars 1-99 of a benchmark window are ``head(99)``)."""
        return Window(
            self.name,
            self.ts[:n],
            self.open[:n],
            self.high[:n],
            self.low[:n],
            self.close[:n],
            self.volume[:n],
            self.symbol,
            self.timeframe,
            self.rejects,
        )

    def digest(self) -> str:
        """SHA-256 of the bars and the instrument: the cache key of every call about this window."""
        h = hashlib.sha256(f"{self.symbol}|{self.timeframe}|".encode())
        for a in (self.open, self.high, self.low, self.close, self.volume):
            h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
        h.update("|".join(t.isoformat() for t in self.ts).encode())
        return h.hexdigest()


def _parse_ts(s: str) -> datetime:
    s = s.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            continue
    return datetime.fromisoformat(s)


def parse_rows(name: str, rows: list[dict[str, str]], symbol: str = "", timeframe: str = "") -> Window:
    ts: list[datetime] = []
    vals: list[tuple[float, float, float, float, float]] = []
    bad: Counter[str] = Counter()
    for row in rows:
        try:
            t = _parse_ts(row["Datetime"] or "")
            o, h, lo, c = (float(row[k]) for k in ("Open", "High", "Low", "Close"))
            v = float(row["Volume"] or 0)
        except (ValueError, TypeError, KeyError):
            bad["unparsable"] += 1
            continue
        if not all(math.isfinite(x) for x in (o, h, lo, c, v)) or min(o, h, lo, c) <= 0 or v < 0:
            bad["non_positive_or_nan"] += 1
        elif h < lo or not (lo <= c <= h) or not (lo <= o <= h):
            bad["inconsistent_ohlc"] += 1
        elif ts and t <= ts[-1]:
            bad["out_of_order"] += 1
        else:
            ts.append(t)
            vals.append((o, h, lo, c, v))
    if len(vals) < MIN_GOOD_BARS:
        raise ParseError(
            "too_few_bars", f"{name}: {len(vals)} good bars (need {MIN_GOOD_BARS}); rejects {dict(bad)}"
        )
    a = np.asarray(vals, dtype=np.float64)
    return Window(name, tuple(ts), a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], symbol, timeframe, dict(bad))


def read_window(path: Path, symbol: str = "", timeframe: str = "") -> Window:
    """One window CSV; raises ParseError (missing columns, too few good bars) with a one-line reason."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ParseError("columns", f"{path.name}: missing column(s) {', '.join(missing)}")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ParseError("unreadable", f"{path.name}: {exc}") from exc
    return parse_rows(path.stem, rows, symbol, timeframe)


def read_manifest(path: Path) -> dict[str, tuple[str, str]]:
    """``window,symbol,timeframe`` rows -> {window stem: (symbol, timeframe)}."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            need = {"window", "symbol", "timeframe"}
            if not need <= set(reader.fieldnames or []):
                raise ParseError(
                    "columns", f"{path.name}: the manifest needs columns window,symbol,timeframe"
                )
            out = {}
            for row in reader:
                key = Path((row["window"] or "").strip()).stem
                if key:
                    out[key] = ((row["symbol"] or "").strip(), (row["timeframe"] or "").strip())
            return out
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ParseError("unreadable", f"{path.name}: {exc}") from exc
