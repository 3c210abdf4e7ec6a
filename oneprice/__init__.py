"""oneprice: prediction-market and crypto trading analytics.

Layout (dependencies point inward; subsystems never import ``services``, ``cli`` or ``app``):

- ``core``       domain types and errors; imports nothing else of ours.
- ``config``     settings from the environment (``ONEPRICE_`` prefix); ``log`` the one logging setup.
- ``db``         SQLAlchemy 2.0 models, Alembic migrations, idempotent bulk upserts.
- ``ingest``     venue clients (HTTP + ccxt) and pure parsers from venue JSON to ``core`` types.
- ``alignment``  which markets on different venues are the same contract (or inverse, or implied).
- ``arbitrage``  executable cross-venue edges net of fees and depth; scans, alerts, deviation history.
- ``models``     the LLM runtime with speculative decoding.
- ``backtest``   vectorised and event-driven engines, strategies, metrics, reports.
- ``services``   the use cases; the CLI, the scheduler and the dashboard call only these.
- ``cli``        the ``oneprice`` command (Typer); ``app`` the Streamlit dashboard.

One way to add a venue: write a client in ``oneprice/ingest/venues/`` implementing
``oneprice.ingest.base.VenueClient`` and register it with ``@register_venue`` (see README).
One way to add a decoding strategy: subclass ``oneprice.models.llm.Proposer`` and decorate it with
``@register_proposer("name")`` (it lands in ``oneprice.models.llm.PROPOSERS``).
"""

__version__ = "0.1.0"
