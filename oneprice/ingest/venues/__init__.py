"""Built-in venue clients; importing this package registers them (see ``oneprice.ingest.base``)."""

from oneprice.ingest.venues import ccxt_exchange, kalshi, manifold, polymarket, predictit, replay

__all__ = ["ccxt_exchange", "kalshi", "manifold", "polymarket", "predictit", "replay"]
