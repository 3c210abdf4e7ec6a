"""Kalshi trade-api v2 client: ``/events`` (nested markets) and ``/markets`` with cursor pagination,
``/markets/{ticker}/orderbook``, candlesticks. Public market data needs no credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from oneprice.config import Settings
from oneprice.core import Event, Market, OrderBook, ParseError, Quote, Venue
from oneprice.ingest.base import Capability, Page, VenueClient, register_venue
from oneprice.ingest.http import HttpClient, Sleep
from oneprice.ingest.paging import event_pages, market_pages
from oneprice.ingest.parsers import kalshi as p
from oneprice.ingest.parsers.common import record

PERIODS = {"1m": 1, "1h": 60, "1d": 1440}


@register_venue
class KalshiClient(VenueClient):
    name: ClassVar[str] = "kalshi"
    venue: ClassVar[Venue] = Venue("kalshi")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.EVENTS, Capability.MARKETS, Capability.ORDER_BOOK, Capability.PRICE_HISTORY}
    )

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        base_url: str | None = None,
        rate_per_s: float | None = None,
        page_size: int = 200,
        status: str | None = "open",
        sleep: Sleep | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        self.http = HttpClient(
            "kalshi",
            base_url or self.settings.kalshi_url,
            settings=self.settings,
            rate_per_s=rate_per_s,
            sleep=sleep,
        )
        self.page_size = page_size
        self.status = status

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _pages(
        self, path: str, key: str, cursor: str | None
    ) -> AsyncIterator[tuple[list[Any], str | None]]:
        while True:
            params = {"limit": self.page_size, "cursor": cursor or None, "status": self.status}
            if key == "events":
                params["with_nested_markets"] = "true"
            body = record(await self.http.get_json(path, params), "response")
            rows = body.get(key)
            if not isinstance(rows, list):
                raise ParseError(f"missing_field:{key}", "page has no list of records")
            nxt = body.get("cursor") or None
            yield rows, (str(nxt) if nxt and rows else None)
            if not nxt or not rows:
                return
            cursor = str(nxt)

    def events(self, *, cursor: str | None = None, limit: int | None = None) -> AsyncIterator[Page[Event]]:
        return event_pages(self._pages("/events", "events", cursor), p.parse_event, p.parse_market, limit)

    def markets(self, *, cursor: str | None = None, limit: int | None = None) -> AsyncIterator[Page[Market]]:
        return market_pages(self._pages("/markets", "markets", cursor), p.parse_market, limit)

    async def order_books(self, market: Market) -> list[OrderBook]:
        body = await self.http.get_json(f"/markets/{market.market_id}/orderbook")
        return p.parse_orderbook(body, market.market_id, datetime.now(UTC))

    async def price_history(
        self, market: Market, start: datetime, end: datetime, interval: str = "1h"
    ) -> list[Quote]:
        if interval not in PERIODS:
            raise ValueError(f"Kalshi candlesticks support {sorted(PERIODS)}, not {interval!r}")
        extra: Mapping[str, Any] = market.extra
        series = (
            extra.get("series_ticker")
            or str(extra.get("event_ticker") or market.event_id or "").split("-")[0]
        )
        params = {
            "start_ts": int(start.timestamp()),
            "end_ts": int(end.timestamp()),
            "period_interval": PERIODS[interval],
        }
        body = await self.http.get_json(f"/series/{series}/markets/{market.market_id}/candlesticks", params)
        quotes, _rejects = p.parse_candlesticks(body, market.market_id)
        return quotes
