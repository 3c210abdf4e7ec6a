"""Fixtures: matched pairs written straight into the shared tables, and a fake venue client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from oneprice.core import Market, OrderBook, TransientError, Venue
from oneprice.db import models as m
from oneprice.db import session_scope
from oneprice.db.base import now_utc
from oneprice.ingest.base import Capability, VenueClient

from .arb_helpers import book


class FakeVenue(VenueClient):
    """A real VenueClient subclass serving fixed books; ``fail`` makes every request raise."""

    name = "fake"
    venue = Venue("fake")
    capabilities = frozenset({Capability.ORDER_BOOK})

    def __init__(self, books: dict[str, list[OrderBook]], fail: bool = False) -> None:
        self.books = books
        self.fail = fail
        self.calls = 0

    async def order_books(self, market: Market) -> list[OrderBook]:
        self.calls += 1
        if self.fail:
            raise TransientError("venue unavailable after retries")
        return self.books[market.market_id]


def fresh_books(venue: str, mid: str, yes: str, no: str, size: str = "100") -> list[OrderBook]:
    ts = now_utc()
    return [
        book(venue, mid, "Yes", [(yes, size)], [(f"{float(yes) - 0.02:.2f}", size)], ts=ts),
        book(venue, mid, "No", [(no, size)], [(f"{float(no) - 0.02:.2f}", size)], ts=ts),
    ]


def add_pair(
    engine: Engine,
    a: str,
    b: str,
    relation: str = "equivalent",
    status: str = "confirmed",
    confidence: float = 0.95,
    venues: tuple[str, str] = ("kalshi", "polymarket"),
    extra_b: dict[str, Any] | None = None,
    category: str = "Economics",
) -> int:
    omap = {"equivalent": {"Yes": "Yes", "No": "No"}, "inverse": {"Yes": "No", "No": "Yes"}}.get(relation, {})
    with session_scope(engine) as s:
        for v in venues:
            if s.scalar(select(m.Venue).where(m.Venue.name == v)) is None:
                s.add(m.Venue(name=v, executable=v != "manifold"))
        s.flush()
        ids = []
        for venue, ext, extra in ((venues[0], a, {}), (venues[1], b, extra_b or {})):
            mk = m.Market(
                venue=venue,
                external_id=ext,
                question=f"Will {ext} happen?",
                status="open",
                close_time=now_utc() + timedelta(days=60),
                category=category,
                extra=extra,
                executable=venue != "manifold",
            )
            s.add(mk)
            s.flush()
            s.add_all(
                [
                    m.Outcome(market_id=mk.id, name="Yes", token_id=f"{ext}-y"),
                    m.Outcome(market_id=mk.id, name="No", token_id=f"{ext}-n"),
                ]
            )
            ids.append(mk.id)
        match = m.Match(
            market_a_id=ids[0],
            market_b_id=ids[1],
            relation=relation,
            outcome_map=omap,
            status=status,
            confidence=confidence,
        )
        s.add(match)
        s.flush()
        return match.id


@pytest.fixture
def add_match() -> Callable[..., int]:
    return add_pair


def db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)
