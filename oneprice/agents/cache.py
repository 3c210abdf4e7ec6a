"""A cache of LLM calls keyed by (window hash, prompt version, model, sampling), in one SQLite file.

A rerun over the same windows with the same prompt version and model makes no LLM call; changing
the prompt version or the model misses the cache by construction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any


def call_key(window_hash: str, prompt_version: str, model: str, params: dict[str, Any]) -> str:
    blob = json.dumps([window_hash, prompt_version, model, params], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class CallCache:
    """``get(key)`` / ``put(key, ...)``; ``path=None`` keeps it in memory (tests, one-off runs)."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, window TEXT, prompt_version TEXT,"
            " model TEXT, text TEXT, prompt_tokens INT, completion_tokens INT, seconds REAL, created REAL)"
        )
        self._db.commit()

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT text FROM calls WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(
        self,
        key: str,
        window: str,
        prompt_version: str,
        model: str,
        text: str,
        tokens: tuple[int, int],
        s: float,
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, window, prompt_version, model, text, tokens[0], tokens[1], s, time.time()),
            )
            self._db.commit()

    def __bool__(self) -> bool:  # an empty cache is still a cache (``cache or default`` must keep it)
        return True

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM calls").fetchone()[0])

    def close(self) -> None:
        self._db.close()
