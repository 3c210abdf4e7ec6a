"""Import every module that defines tables, so metadata (and Alembic) sees them all."""

import oneprice.db.models  # noqa: F401
import oneprice.db.models_arbitrage  # noqa: F401
import oneprice.db.models_backtest  # noqa: F401
