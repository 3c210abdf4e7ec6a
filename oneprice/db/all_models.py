"""Import every module that defines tables, so metadata (and Alembic) sees them all."""

import oneprice.db.models
import oneprice.db.models_arbitrage
import oneprice.db.models_backtest  # noqa: F401
