"""Helpers for alignment tests: real same-day listing markets inserted as DB markets."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from oneprice.db import session_scope
from oneprice.db.models import Market as MarketRow
from oneprice.db.models import Venue
from oneprice.db.upsert import upsert

ALIGN_FIXTURES = Path(__file__).parents[1] / "fixtures" / "alignment"


def listing_markets() -> list[dict[str, Any]]:
    return json.loads((ALIGN_FIXTURES / "markets.json").read_text())


def insert_markets(engine: Engine, markets: list[dict[str, Any]] | None = None) -> dict[str, int]:
    """Insert same-day listing records as DB markets (as the replay ingest does); external id -> db id."""
    markets = listing_markets() if markets is None else markets
    rows = []
    for m in markets:
        venue = m["platform"].lower()
        rows.append(
            {
                "venue": venue,
                "external_id": m["id"],
                "event_external_id": m["id"].rsplit("-", 1)[0] if venue == "kalshi" else None,
                "question": m["question"],
                "rules": m.get("description") or "",
                "close_time": datetime.fromisoformat(m["end_date"].replace("Z", "+00:00"))
                if m.get("end_date")
                else None,
                "status": "open",
            }
        )
    with session_scope(engine) as s:
        upsert(s, Venue, [{"name": "kalshi"}, {"name": "polymarket"}], keys=["name"])
        _, ids = upsert(s, MarketRow, rows, keys=["venue", "external_id"], returning="id")
    return {k[1]: v for k, v in ids.items()}
