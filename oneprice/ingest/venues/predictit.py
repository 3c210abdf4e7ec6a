"""PredictIt client: the one public feed ``/api/marketdata/all/`` (every market and contract, one page)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import ClassVar

from oneprice.config import Settings
from oneprice.core import Market, Venue
from oneprice.ingest.base import Capability, Page, VenueClient, register_venue
from oneprice.ingest.http import HttpClient, Sleep
from oneprice.ingest.parsers import predictit as p


@register_venue
class PredictItClient(VenueClient):
    name: ClassVar[str] = "predictit"
    venue: ClassVar[Venue] = Venue("predictit")
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.MARKETS})

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        base_url: str | None = None,
        rate_per_s: float | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        self.http = HttpClient(
            "predictit",
            base_url or self.settings.predictit_url,
            settings=self.settings,
            rate_per_s=rate_per_s,
            sleep=sleep,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def markets(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> AsyncIterator[Page[Market]]:
        body = await self.http.get_json("/all/")
        markets, quotes, rejects = p.parse_all(body, datetime.now(UTC))
        if limit is not None:
            markets = markets[:limit]
            keep = {m.market_id for m in markets}
            quotes = [q for q in quotes if q.market_id in keep]
        yield Page(items=markets, rejects=rejects, quotes=quotes)
