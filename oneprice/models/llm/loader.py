"""Load a tokenizer and causal LM from a registry name, a local dir, a GGUF file or a hub name."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from oneprice.core.errors import ConfigError, NotFoundError
from oneprice.models.llm import registry

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    name: str
    model: Any  # transformers PreTrainedModel
    tokenizer: Any
    device: torch.device
    dtype: torch.dtype


def cpu_has_bf16() -> bool:
    """True where the CPU has native bf16 arithmetic (AVX512-BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto``: bf16 on GPUs that support it (Gemma overflows fp16), fp32 on older GPUs, bf16 on CPUs
    with native bf16, else fp32."""
    table = {
        "fp32": torch.float32,
        "float32": torch.float32,
        "bf16": torch.bfloat16,
        "bfloat16": torch.bfloat16,
    }
    table |= {"fp16": torch.float16, "float16": torch.float16}
    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        return torch.bfloat16 if cpu_has_bf16() else torch.float32
    if dtype not in table:
        raise ConfigError(f"unknown dtype {dtype!r}; use auto, fp32, bf16 or fp16")
    return table[dtype]


def locate(name: str) -> tuple[str, str | None]:
    """Map a model name to (pretrained dir or hub id, gguf file name or None)."""
    if name in registry.MODELS:
        path = registry.model_path(name)
        if not path.is_file():
            raise NotFoundError(f"model {name} is not fetched; run `oneprice llm fetch {name}`")
        hf = hf_dir(name)
        if (hf / "config.json").is_file():
            return str(hf), None
        return str(path.parent), path.name
    p = Path(name).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return str(p.parent), p.name
    if p.is_dir():
        ggufs = sorted(p.glob("*.gguf"))
        if not (p / "config.json").exists() and len(ggufs) == 1:
            return str(p), ggufs[0].name
        return str(p), None
    return name, None  # a hub name: works for users who can reach the hub


def hf_dir(name: str) -> Path:
    """Converted (de-quantized fp32 safetensors + tokenizer) copy of a registry model: loads in seconds."""
    return registry.model_path(name).parent / "hf"


def convert(name: str) -> Path:
    """De-quantize a fetched registry GGUF once into ``hf_dir(name)``; GGUF parsing is slow on every load."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = hf_dir(name)
    if (out / "config.json").is_file():
        return out
    path = registry.model_path(name)
    if not path.is_file():
        raise NotFoundError(f"model {name} is not fetched; run `oneprice llm fetch {name}`")
    tmp = out.with_name("hf.partial")
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    _save_plain(model, tmp)
    tok.save_pretrained(tmp)
    tmp.rename(out)
    return out


def _save_plain(model: Any, out: Path) -> None:
    """Save weights and config without the GGUF quantizer marker (transformers refuses to serialize those)."""
    from safetensors.torch import save_model

    out.mkdir(parents=True, exist_ok=True)
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(out)
    save_model(model, str(out / "model.safetensors"))


def load(name: str, dtype: str = "auto", device: str = "auto") -> LoadedModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    where, gguf = locate(name)
    kw: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
    log.info("loading %s (%s) on %s as %s", name, gguf or where, dev, dt)
    tok = AutoTokenizer.from_pretrained(where, **kw)
    model: Any = AutoModelForCausalLM.from_pretrained(where, dtype=dt, attn_implementation="sdpa", **kw)
    model.to(dev).eval()
    return LoadedModel(name, model, tok, dev, dt)
