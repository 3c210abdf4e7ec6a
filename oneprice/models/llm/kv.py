"""KV-cache operations (rollback, keeping a tree path) and tree-attention masks.

Every layer is a plain ``DynamicLayer`` holding all positions, also for sliding-window models
(Gemma 3): the window is enforced by the attention mask, never by evicting entries, so rollback and
tree attention stay exact past the window.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from transformers import DynamicCache


def new_cache() -> DynamicCache:
    return DynamicCache()  # no config: full layers everywhere, so crop() can always roll back


def cache_kw(model: Any) -> str:
    """Name of the forward() argument taking the cache (``cache`` in newer transformers)."""
    name = getattr(model, "_oneprice_cache_kw", None)
    if name is None:
        params = inspect.signature(model.forward).parameters
        name = "cache" if "cache" in params else "past_key_values"
        model._oneprice_cache_kw = name
    return name


def forward(model: Any, ids: torch.Tensor, cache: DynamicCache, **kw: Any) -> torch.Tensor:
    """Run the model over ids appending to cache; returns logits [batch, n, V]."""
    kw[cache_kw(model)] = cache
    return model(input_ids=ids, use_cache=True, **kw).logits


def cache_len(cache: DynamicCache) -> int:
    return int(cache.get_seq_length())


def keep(cache: DynamicCache, base: int, idx: list[int]) -> None:
    """Keep positions [0, base) plus base + i for i in idx (sorted); drop the rest."""
    if idx == list(range(len(idx))):
        total = cache_len(cache)
        drop = total - base - len(idx)
        if drop > 0:
            cache.crop(-drop)
        return
    sel = torch.tensor(idx, dtype=torch.long) + base
    layer: Any
    for layer in cache.layers:
        if not getattr(layer, "is_initialized", False):
            continue
        dev = layer.keys.device
        layer.keys = torch.cat([layer.keys[..., :base, :], layer.keys[..., sel.to(dev), :]], dim=-2)
        layer.values = torch.cat([layer.values[..., :base, :], layer.values[..., sel.to(dev), :]], dim=-2)


def truncate(cache: DynamicCache, length: int) -> None:
    drop = cache_len(cache) - length
    if drop > 0:
        cache.crop(-drop)


def depths(parents: list[int]) -> list[int]:
    """Depth of each node; parents[i] < i, -1 is the root (depth 0)."""
    out: list[int] = []
    for p in parents:
        out.append(0 if p < 0 else out[p] + 1)
    return out


def tree_mask(
    parents: list[int], past: int, dtype: torch.dtype, device: torch.device, window: int | None = None
) -> torch.Tensor:
    """Additive 4-D mask [1, 1, n, past + n]: node i sees the cache and its own ancestors.

    ``parents`` index into the same input (-1: attached to the cached prefix). With ``window`` set,
    a query at position q also hides cached keys at positions <= q - window (sliding attention).
    """
    n = len(parents)
    allowed = torch.zeros(n, past + n, dtype=torch.bool)
    allowed[:, :past] = True
    for i, p in enumerate(parents):
        allowed[i, past + i] = True
        if p >= 0:
            allowed[i, past : past + n] |= allowed[p, past : past + n]
    if window is not None:
        q_pos = torch.tensor([past + d for d in depths(parents)])
        k_pos = torch.arange(past + n)
        k_pos[past:] = q_pos
        allowed &= k_pos[None, :] > (q_pos[:, None] - window)
    mask = torch.zeros(n, past + n, dtype=dtype)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[None, None].to(device)


def attention_masks(model: Any, parents: list[int], past: int) -> Any:
    """The mask argument for a tree forward: a dict per attention type where the model has sliding layers."""
    cfg = model.config
    dtype, device = model.dtype, model.device
    full = tree_mask(parents, past, dtype, device)
    layer_types = set(getattr(cfg, "layer_types", None) or [])
    if "sliding_attention" in layer_types and getattr(cfg, "sliding_window", None):
        sliding = tree_mask(parents, past, dtype, device, window=int(cfg.sliding_window))
        return {"full_attention": full, "sliding_attention": sliding}
    return full
