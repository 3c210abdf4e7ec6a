from __future__ import annotations

import copy

import pytest
import torch

from oneprice.models.llm.packing import PackedLinear, can_pack, pack_linears


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = torch.nn.Linear(64, 256)
        self.down = torch.nn.Linear(256, 64, bias=False)
        self.norm = torch.nn.LayerNorm(64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.down(torch.relu(self.up(x))))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_packed_layers_compute_what_f_linear_computes(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    plain = Tiny().to(dtype).eval()
    if not can_pack(plain):
        pytest.skip("this torch build or CPU cannot pack this dtype (bf16 needs AVX-512 or AVX-NE-CONVERT)")
    packed = copy.deepcopy(plain)
    assert pack_linears(packed) == 2
    assert isinstance(packed.up, PackedLinear) and isinstance(packed.norm, torch.nn.LayerNorm)
    with torch.inference_mode():
        for n in (1, 5, 33):  # one decode token, a verify block, a prefill
            x = torch.randn(1, n, 64, dtype=dtype)
            torch.testing.assert_close(packed(x), plain(x), rtol=1e-2, atol=1e-2)
    assert pack_linears(packed) == 0  # packing twice is a no-op


def test_nothing_is_packed_in_fp16() -> None:
    model = Tiny().half()
    assert pack_linears(model) == 0 and isinstance(model.up, torch.nn.Linear)
