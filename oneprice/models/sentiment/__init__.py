"""Financial sentiment of short texts: bearish / neutral / bullish.

The bundled model (``bundled``) is a word and character TF-IDF logistic regression trained on the
Twitter Financial News sentiment set (MIT) plus a hand-labeled share of crypto tweets; its weights ship
in ``data/`` (a few MB) so it works offline. Any Hugging Face sequence classifier (``ProsusAI/finbert``)
or a directory written by :func:`train` loads through :func:`load_model`.
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
