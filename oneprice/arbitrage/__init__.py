"""Law-of-One-Price arbitrage: executable edges net of fees and depth, bounds, scans, alerts.

- fees: one small function per venue fee schedule in ``oneprice.core.fees``; ``core.venues.fee_model``
  picks it from the venue's description.
  To add a venue, write its fee function and add a branch to ``fee_model``.
- ``pricing``: walking complete sets through ask books; per-contract edge; largest positive size.
- ``detect``: per matched pair, the complete sets its relation allows (equivalence and no-arbitrage
  bounds), known false arbitrage (exclusion reasons), capital lock-up and settlement-risk haircut.
- ``scan``: concurrent book refresh through ``oneprice.ingest`` clients, detection, persistence.
- ``alerts``: console / JSON Lines / webhook sinks with de-duplication.
- ``deviations``: per-pair mid-gap and executable-edge history and its summary.
"""
