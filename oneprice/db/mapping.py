"""The one mapping from stored rows to domain objects (every subsystem reads markets through it)."""

from __future__ import annotations

from collections.abc import Iterable

from oneprice.core.types import Market, Outcome
from oneprice.db.models import Market as MarketRow


def to_market(row: MarketRow, outcomes: Iterable[Outcome] = ()) -> Market:
    """The domain ``Market`` of a ``markets`` row (with its outcomes when the caller loaded them)."""
    return Market(
        venue=row.venue,
        market_id=row.external_id,
        question=row.question or "",
        outcomes=tuple(outcomes),
        event_id=row.event_external_id,
        rules=row.rules or "",
        status=row.status,
        close_time=row.close_time,
        category=row.category or "",
        executable=row.executable,
        url=row.url or "",
        extra=dict(row.extra or {}),
        strike_type=row.strike_type or "",
        floor_strike=row.floor_strike,
        cap_strike=row.cap_strike,
        expected_expiration=row.expected_expiration,
        series=row.series or "",
        group_item=row.group_item or "",
        resolution_source=row.resolution_source or "",
    )
