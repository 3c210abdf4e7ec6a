"""Domain types and errors. This package imports nothing else from oneprice."""

from oneprice.core.errors import (
    ConfigError,
    NotFoundError,
    OnePriceError,
    ParseError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from oneprice.core.types import (
    Bar,
    Event,
    FillResult,
    Level,
    Market,
    OrderBook,
    Outcome,
    Quote,
    Venue,
    VenueKind,
    to_prob,
    utc,
)

__all__ = [
    "Bar",
    "ConfigError",
    "Event",
    "FillResult",
    "Level",
    "Market",
    "NotFoundError",
    "OnePriceError",
    "OrderBook",
    "Outcome",
    "ParseError",
    "PermanentError",
    "Quote",
    "RateLimitedError",
    "TransientError",
    "Venue",
    "VenueKind",
    "to_prob",
    "utc",
]
