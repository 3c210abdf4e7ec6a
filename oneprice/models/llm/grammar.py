"""Structured output by construction: JSON Schema or regex as a token mask (llguidance).

A ``Constraint`` follows one request: ``allowed()`` is the boolean mask of tokens the grammar permits
next, ``advance(token)`` commits a token. Decoding masks the logits before greedy choice or sampling
(``sampling.masked``), so every completion that ends on EOS parses; speculative verifiers walk the
drafted path applying the mask at each position, so a drafted token that breaks the grammar is never
accepted and the output equals constrained plain decoding.

JSON is emitted compactly with ``", "`` and ``": "`` separators and no free whitespace, so a model
cannot loop on blank lines.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import torch

from oneprice.core.errors import ConfigError

JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}

_tokenizers: dict[tuple[int, int], Any] = {}
_grammars: dict[str, str] = {}
_lock = threading.Lock()


def ll_tokenizer(tokenizer: Any, vocab_size: int, eos_ids: set[int]) -> Any:
    """llguidance's view of a Hugging Face fast tokenizer (built once per tokenizer: about 1-2 s)."""
    import llguidance.hf

    key = (id(tokenizer), vocab_size)
    with _lock:
        if key not in _tokenizers:
            eos = sorted(eos_ids) or None
            _tokenizers[key] = llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab_size, eos_token=eos)
        return _tokenizers[key]


def grammar_for(json_schema: dict[str, Any] | None = None, regex: str | None = None) -> str:
    """The llguidance grammar of a JSON Schema ({} = any JSON object) or a regex; ConfigError if bad."""
    from llguidance import LLMatcher

    if json_schema is not None and regex is not None:
        raise ConfigError("give a JSON schema or a regex, not both")
    if json_schema is not None:
        schema = json_schema or {"type": "object"}
        key = "json:" + json.dumps(schema, sort_keys=True)
    elif regex is not None:
        key = "re:" + regex
    else:
        raise ConfigError("no JSON schema and no regex given")
    with _lock:
        if key in _grammars:
            return _grammars[key]
    try:
        if json_schema is not None:
            grammar = LLMatcher.grammar_from_json_schema(schema, overrides=JSON_OPTIONS)  # type: ignore[arg-type]
        else:
            grammar = LLMatcher.grammar_from_regex(regex or "")
    except ValueError as exc:
        raise ConfigError(f"unusable schema: {exc}") from exc
    is_error, msgs = LLMatcher.validate_grammar_with_warnings(grammar)
    if is_error:
        raise ConfigError(f"unusable {'schema' if json_schema is not None else 'regex'}: {msgs[0]}")
    with _lock:
        _grammars[key] = grammar
    return grammar


class Constraint:
    """One request's grammar state over the model's vocabulary."""

    def __init__(self, tokenizer: Any, vocab_size: int, eos_ids: set[int], grammar: str) -> None:
        from llguidance import LLMatcher

        self.vocab_size = vocab_size
        self.matcher = LLMatcher(ll_tokenizer(tokenizer, vocab_size, eos_ids), grammar, log_level=0)
        if self.matcher.is_error():
            raise ConfigError(f"grammar rejected: {self.matcher.get_error()}")
        self.eos_ids = eos_ids

    def fork(self) -> Constraint:
        """An independent copy of the current state (a draft model explores ahead with it)."""
        twin = object.__new__(Constraint)
        twin.vocab_size, twin.eos_ids, twin.matcher = self.vocab_size, self.eos_ids, self.matcher.deep_copy()
        return twin

    def allowed(self) -> np.ndarray:
        """Boolean [vocab] mask of the tokens the grammar permits next."""
        bits = np.frombuffer(self.matcher.compute_bitmask(), dtype=np.uint8)
        mask = np.unpackbits(bits, bitorder="little")[: self.vocab_size].astype(bool)
        if not mask.any():
            raise RuntimeError(f"grammar allows no token: {self.matcher.get_error() or 'dead end'}")
        return mask

    def mask_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits with every token the grammar forbids set to -inf (a new tensor)."""
        allowed = torch.from_numpy(self.allowed()).to(logits.device)
        n = min(logits.shape[-1], allowed.shape[0])
        out = torch.full_like(logits, float("-inf"))
        out[..., :n] = logits[..., :n].masked_fill(~allowed[:n], float("-inf"))
        return out

    def advance(self, token: int) -> None:
        if token in self.eos_ids:
            return  # the request ends here; EOS is only ever allowed where the grammar is complete
        if not self.matcher.consume_token(token):
            raise RuntimeError(f"token {token} breaks the grammar: {self.matcher.get_error()}")

    def valid_prefix(self, tokens: list[int]) -> int:
        """How many of ``tokens`` (a chain) the grammar accepts from the current state."""
        return int(self.matcher.validate_tokens(tokens))

    @property
    def done(self) -> bool:
        """The grammar is complete and allows nothing but EOS."""
        return bool(self.matcher.is_stopped())


def constraint_for(engine: Any, json_schema: dict[str, Any] | None, regex: str | None) -> Constraint | None:
    if json_schema is None and regex is None:
        return None
    grammar = grammar_for(json_schema, regex)
    return Constraint(engine.tokenizer, engine.vocab_size, engine.eos_ids, grammar)
