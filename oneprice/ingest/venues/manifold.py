"""Manifold client: ``/v0/markets`` paged with ``before=<last id>``. Play money: non-executable markets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from oneprice.config import Settings
from oneprice.core import Market, ParseError, Venue
from oneprice.ingest.base import Capability, Page, VenueClient, register_venue
from oneprice.ingest.http import HttpClient, Sleep
from oneprice.ingest.paging import market_pages
from oneprice.ingest.parsers import manifold as p


@register_venue
class ManifoldClient(VenueClient):
    name: ClassVar[str] = "manifold"
    venue: ClassVar[Venue] = Venue("manifold", executable=False)
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.MARKETS})

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        base_url: str | None = None,
        rate_per_s: float | None = None,
        page_size: int = 1000,
        sleep: Sleep | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        self.http = HttpClient(
            "manifold",
            base_url or self.settings.manifold_url,
            settings=self.settings,
            rate_per_s=rate_per_s,
            sleep=sleep,
        )
        self.page_size = page_size

    async def aclose(self) -> None:
        await self.http.aclose()

    def markets(self, *, cursor: str | None = None, limit: int | None = None) -> AsyncIterator[Page[Market]]:
        return market_pages(self._pages(cursor), p.parse_market, limit)

    async def _pages(self, before: str | None) -> AsyncIterator[tuple[list[Any], str | None]]:
        while True:
            rows = await self.http.get_json("/markets", {"limit": self.page_size, "before": before})
            if not isinstance(rows, list):
                raise ParseError("bad_type:page", f"/markets returned {type(rows).__name__}, expected a list")
            last_id = rows[-1].get("id") if rows and isinstance(rows[-1], dict) else None
            before = str(last_id) if len(rows) >= self.page_size and last_id else None
            yield rows, before
            if before is None:
                return
