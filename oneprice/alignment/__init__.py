"""Semantic alignment: which markets on different venues are the same contract.

Pipeline: ``contract.parse`` turns a market into structured facets (entities, quantity, threshold or
bucket and direction, period and deadline, stage, office, party, resolution source, polarity);
``embed.Embedder`` embeds questions (sentence-transformers, cached by text hash and model id);
``candidates.generate`` finds look-alikes with an HNSW index plus blocking by year, period and
category; ``classifier.AlignmentModel`` scores each candidate from facet agreement and similarities
with a calibrated gradient-boosted classifier over the relations; ``store`` persists matches under
the review workflow (human decisions are never overwritten, rejected pairs never come back).

Relations between binary markets A and B (``relations.RELATIONS``): equivalent, inverse, a_implies_b,
b_implies_a, mutually_exclusive, overlapping, unrelated.

Outcome-map convention (``matches.outcome_map``): ``{"Yes": X, "No": Y}`` where X is the outcome of
market B that pays exactly when A resolves Yes, and Y the one that pays exactly when A resolves No.
Equivalent: ``{"Yes": "Yes", "No": "No"}``; inverse: ``{"Yes": "No", "No": "Yes"}``. A complete set
(hedge) for A outcome ``a`` is: buy A:``a`` and buy B:``outcome_map[other(a)]``. Non-hedgeable
relations carry an empty map. Multi-outcome events (a Kalshi event, a Polymarket negRisk event) are
aligned outcome by outcome, since each outcome is its own binary market.

To add a facet: extend ``contract.Contract`` and ``contract.parse``, then add its agreement features in
``features.pair_features``; the classifier picks it up on the next ``oneprice align train``.
"""

from oneprice.alignment.relations import HEDGEABLE, RELATIONS, outcome_map

__all__ = ["HEDGEABLE", "RELATIONS", "outcome_map"]
