"""Pre-packed linear layers for CPU decoding.

``F.linear`` on a CPU hands oneDNN the weight in its plain layout, so every call re-blocks the
weight on the fly; decoding is bound by streaming those weights. oneDNN can block each weight once
(``mkldnn._reorder_linear_weight``) and then run every call on the packed copy: the same arithmetic
(the outputs are checked against ``F.linear`` when packing), at about 1.5x the speed of one decode step
on a 2-core CPU. This is what Intel's extension for PyTorch does for inference; here it is a few lines
over the ops that ship in the stock CPU wheel. Nothing is packed on GPUs, for fp16, or where the ops
are missing.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)
_DTYPES = (torch.bfloat16, torch.float32)


class PackedLinear(torch.nn.Module):
    """A drop-in for ``nn.Linear`` whose weight oneDNN blocked once, for batch-size-1 decoding."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        with torch.no_grad():
            self.packed = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), 1)
        self.bias = linear.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "none", [], "")
        return out


def can_pack(model: Any) -> bool:
    p = next(model.parameters(), None)
    return (
        p is not None
        and p.device.type == "cpu"
        and p.dtype in _DTYPES
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
        and _cpu_packs(p.dtype)
    )


@cache
def _cpu_packs(dtype: torch.dtype) -> bool:
    """This CPU can block weights of ``dtype`` (oneDNN's bf16 path needs AVX-512 or AVX-NE-CONVERT)."""
    try:
        torch.ops.mkldnn._reorder_linear_weight(torch.zeros(8, 8, dtype=dtype), 1)
    except RuntimeError:
        return False
    return True


def _agrees(linear: torch.nn.Linear, packed: PackedLinear) -> bool:
    """The packed layer computes what ``F.linear`` computes, for one token and for a few."""
    with torch.inference_mode():
        for n in (1, 7):
            x = torch.randn(1, n, linear.in_features, dtype=linear.weight.dtype)
            ref, got = F.linear(x, linear.weight, linear.bias), packed(x)
            tol = 1e-2 if ref.dtype == torch.bfloat16 else 1e-4
            if got.shape != ref.shape or not torch.allclose(got.float(), ref.float(), rtol=tol, atol=tol):
                return False
    return True


def pack_linears(model: Any) -> int:
    """Replace every ``nn.Linear`` of ``model`` by a ``PackedLinear`` (in place); how many were packed.

    The first layer is checked against ``F.linear``; where they disagree nothing is packed.
    """
    if not can_pack(model):
        return 0
    spots = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if type(child) is torch.nn.Linear
    ]
    if not spots:
        return 0
    try:
        first = PackedLinear(spots[0][2])
        ok = _agrees(spots[0][2], first)
    except RuntimeError as exc:  # an op this build lacks
        log.info("linear packing unavailable (%s); decoding with F.linear", exc)
        return 0
    if not ok:
        log.warning("packed linear disagrees with F.linear on this host; decoding with F.linear")
        return 0
    setattr(spots[0][0], spots[0][1], first)  # already packed and checked
    for parent, name, child in spots[1:]:
        setattr(parent, name, PackedLinear(child))
    log.info("packed %d linear layers for CPU decoding", len(spots))
    return len(spots)
