"""Prefix caching: requests that start with the same tokens (a shared system prompt) reuse their KV.

After each prefill the prompt's KV is kept (least recently used first out, within a byte budget). A new
prompt takes the longest common prefix with any kept prompt, at least ``min_tokens`` long and leaving
at least one token to run, and prefills only the rest. The cache tensors are never written in place
(the KV cache grows by concatenation and rolls back by slicing), so entries are shared, not copied.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import torch
from transformers import DynamicCache

Layers = list[tuple[torch.Tensor, torch.Tensor]]


def _common(a: tuple[int, ...], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class PrefixCache:
    def __init__(self, max_bytes: int = 256 << 20, min_tokens: int = 16) -> None:
        self.max_bytes = max_bytes
        self.min_tokens = min_tokens
        self.entries: OrderedDict[tuple[int, ...], Layers] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.reused_tokens = 0
        self._lock = threading.Lock()

    @staticmethod
    def _size(layers: Layers) -> int:
        return sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in layers)

    def lookup(self, prompt: list[int]) -> tuple[int, DynamicCache | None]:
        """(n, cache holding the KV of prompt[:n]) for the longest reusable prefix, or (0, None)."""
        with self._lock:
            best, best_key = 0, None
            for key in self.entries:
                n = min(_common(key, prompt), len(prompt) - 1)
                if n > best:
                    best, best_key = n, key
            if best_key is None or best < self.min_tokens:
                return 0, None
            self.entries.move_to_end(best_key)
            layers = self.entries[best_key]
            self.hits += 1
            self.reused_tokens += best
        cache = DynamicCache()
        for i, (k, v) in enumerate(layers):
            cache.update(k[..., :best, :], v[..., :best, :], i)
        return best, cache

    def insert(self, prompt: list[int], cache: Any) -> None:
        """Keep the KV of prompt (the cache holds exactly its positions, batch 1)."""
        if len(prompt) < self.min_tokens:
            return
        layers: Layers = [(layer.keys, layer.values) for layer in cache.layers]
        size = self._size(layers)
        if size > self.max_bytes:
            return
        key = tuple(prompt)
        with self._lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return
            self.entries[key] = layers
            self.bytes += size
            while self.bytes > self.max_bytes and self.entries:
                _, old = self.entries.popitem(last=False)
                self.bytes -= self._size(old)

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.bytes = 0
