"""Normalisation of tweets before the lexical model: links, handles, tickers and numbers as tokens."""

from __future__ import annotations

import html
import re

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_CASHTAG = re.compile(r"\$([A-Za-z][A-Za-z0-9]{0,9})\b")
_MONEY = re.compile(r"\$\s?\d[\d,.]*[kKmMbB]?")
_PCT = re.compile(r"[+-]?\d[\d,.]*\s?%")
_NUM = re.compile(r"\b\d[\d,.]*\b")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-cased text with links, @handles, $tickers, amounts and percentages replaced by tokens."""
    t = html.unescape(str(text))
    t = _URL.sub(" xurl ", t)
    t = _HANDLE.sub(" xuser ", t)
    t = _MONEY.sub(" xmoney ", t)
    t = _PCT.sub(lambda m: " xpctdown " if m.group(0).lstrip().startswith("-") else " xpct ", t)
    t = _CASHTAG.sub(lambda m: f" xtick {m.group(1).lower()} ", t)
    t = _NUM.sub(" xnum ", t)
    return _SPACE.sub(" ", t).strip().lower()
