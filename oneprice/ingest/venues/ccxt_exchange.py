"""Crypto exchanges through ccxt (any exchange id; default ``Settings.ccxt_exchange``): OHLCV paged by
``since`` and order books. ccxt is synchronous here and runs in worker threads, so the event loop never
blocks; ccxt's own rate limiter paces requests (``rate_per_s`` sets it). ``api_url`` re-points every
entry of ``exchange.urls['api']`` at another host (tests, proxies)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from oneprice.config import Settings
from oneprice.core import (
    Bar,
    Market,
    NotFoundError,
    OrderBook,
    ParseError,
    PermanentError,
    RateLimitedError,
    TransientError,
    Venue,
    VenueKind,
)
from oneprice.ingest.base import Capability, Page, VenueClient, register_venue
from oneprice.ingest.http import backoff_delay
from oneprice.ingest.parsers.ccxt_data import parse_ohlcv, parse_order_book

log = logging.getLogger(__name__)
R = TypeVar("R")


def _ccxt() -> Any:
    """ccxt, imported on first use (it takes about a second to import)."""
    import ccxt

    return ccxt


def repoint(api: Any, base: str) -> Any:
    """``urls['api']`` with scheme and host of every URL replaced by ``base`` (paths kept)."""
    if isinstance(api, dict):
        return {k: repoint(v, base) for k, v in api.items()}
    if isinstance(api, str) and api.startswith("http"):
        return base.rstrip("/") + urlsplit(api).path
    return api


@register_venue
class CcxtClient(VenueClient):
    name: ClassVar[str] = "ccxt"
    venue: ClassVar[Venue] = Venue("ccxt", VenueKind.CRYPTO)
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.OHLCV, Capability.ORDER_BOOK})

    def __init__(
        self,
        exchange: str | None = None,
        settings: Settings | None = None,
        *,
        api_url: str | None = None,
        rate_per_s: float | None = None,
        page_limit: int = 1000,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        self.exchange_id = exchange or self.settings.ccxt_exchange
        ccxt = _ccxt()
        if not hasattr(ccxt, self.exchange_id):
            raise NotFoundError(f"ccxt has no exchange {self.exchange_id!r}")
        cfg: dict[str, Any] = {"enableRateLimit": True, "timeout": int(self.settings.http_timeout_s * 1000)}
        if options:
            cfg["options"] = options
        self.ex = getattr(ccxt, self.exchange_id)(cfg)
        if api_url:
            self.ex.urls["api"] = repoint(self.ex.urls["api"], api_url)
        if rate_per_s:
            self.ex.rateLimit = 1000.0 / rate_per_s
        self.page_limit = page_limit
        self._markets_loaded = False

    @property
    def exchange_name(self) -> str:
        return self.exchange_id

    async def _call(self, fn: Callable[..., R], *args: Any) -> R:
        s = self.settings
        ccxt = _ccxt()
        last: Exception | None = None
        for attempt in range(s.http_max_retries + 1):
            if attempt:
                wait = backoff_delay(attempt - 1, s.http_backoff_base_s, s.http_backoff_max_s)
                log.warning(
                    "%s %s: %s; retry %d/%d in %.2fs",
                    self.exchange_id,
                    fn.__name__,
                    type(last).__name__,
                    attempt,
                    s.http_max_retries,
                    wait,
                )
                await asyncio.sleep(wait)
            try:
                return await asyncio.to_thread(fn, *args)
            except ccxt.NetworkError as exc:  # timeouts, 5xx, 429, DDoS protection
                last = exc
            except ccxt.BadSymbol as exc:
                raise NotFoundError(f"{self.exchange_id}: {exc}") from None
            except ccxt.BadResponse as exc:
                raise ParseError("malformed_response", str(exc)[:200]) from None
            except ccxt.BaseError as exc:
                raise PermanentError(f"{self.exchange_id}: {type(exc).__name__}: {str(exc)[:200]}") from None
        if isinstance(last, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
            raise RateLimitedError(f"{self.exchange_id}: rate limited after {s.http_max_retries} retries")
        raise TransientError(f"{self.exchange_id}: {type(last).__name__} after {s.http_max_retries} retries")

    async def _load(self) -> None:
        if not self._markets_loaded:
            await self._call(self.ex.load_markets)
            self._markets_loaded = True

    async def ohlcv(
        self, symbol: str, timeframe: str, since: datetime, until: datetime | None = None
    ) -> AsyncIterator[Page[Bar]]:
        await self._load()
        step = int(self.ex.parse_timeframe(timeframe) * 1000)
        start = int(since.timestamp() * 1000)
        stop = int(until.timestamp() * 1000) if until else None
        while True:
            rows = await self._call(self.ex.fetch_ohlcv, symbol, timeframe, start, self.page_limit)
            page: Page[Bar] = Page()
            newest = start - step
            for row in rows or []:
                try:
                    bar = parse_ohlcv(row, self.exchange_id, symbol, timeframe)
                except ParseError as exc:
                    page.rejects.append(exc)
                    continue
                ms = int(bar.ts.timestamp() * 1000)
                newest = max(newest, ms)
                if ms < start or (stop is not None and ms >= stop):
                    continue
                page.items.append(bar)
            nxt = newest + step
            done = not rows or nxt <= start or (stop is not None and nxt >= stop)
            page.cursor = None if done else str(nxt)
            yield page
            if done:
                return
            start = nxt

    async def order_book(self, symbol: str, depth: int | None = None) -> OrderBook:
        await self._load()
        ob = await self._call(self.ex.fetch_order_book, symbol, depth)
        return parse_order_book(ob, self.exchange_id, symbol, datetime.now(UTC))

    async def order_books(self, market: Market) -> list[OrderBook]:
        """The book of ``market.market_id`` read as a ccxt symbol (e.g. ``BTC/USDT``)."""
        return [await self.order_book(market.market_id)]
