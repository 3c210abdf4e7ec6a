"""The one HTTP layer every venue client uses: timeouts, a token-bucket rate limit per venue, retries
with exponential backoff and jitter on 429/5xx/timeouts/connection errors honouring ``Retry-After``,
and the mapping of failures onto ``oneprice.core`` errors. Query strings are redacted in logs."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from oneprice.config import Settings
from oneprice.core import NotFoundError, ParseError, PermanentError, RateLimitedError, TransientError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """Allow ``rate`` requests per second on average, with bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: uniform in [d/2, d] where d = min(cap, base * 2**attempt)."""
    d = min(cap, base * (2**attempt))
    return d / 2 + (rng or random).uniform(0, d / 2)


class HttpClient:
    """Async JSON-over-HTTP client for one venue."""

    def __init__(
        self,
        venue: str,
        base_url: str,
        *,
        settings: Settings | None = None,
        rate_per_s: float | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        self.venue = venue
        self.base_url = base_url.rstrip("/")
        rate = rate_per_s if rate_per_s is not None else getattr(self.settings, f"rate_{venue}", 5.0)
        self.bucket = TokenBucket(rate)
        self._sleep: Sleep = sleep or asyncio.sleep
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.http_timeout_s),
            headers={"User-Agent": self.settings.user_agent, "Accept": "application/json", **(headers or {})},
            follow_redirects=True,
        )
        self.requests = 0  # attempts made, for tests and metrics

    async def aclose(self) -> None:
        await self._client.aclose()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    async def _get(self, url: str, params: Mapping[str, Any]) -> tuple[httpx.Response, bytes]:
        """GET ``url`` and read its body, decompressed, refusing one larger than ``http_max_body_mb``
        (checked as it streams in, so neither a huge body nor a small gzip bomb is ever held whole)."""
        mb = self.settings.http_max_body_mb
        limit = int(mb * 1024 * 1024)
        too_big = PermanentError(f"{self.venue} GET {_path(url)}: response body over {mb:g} MB")
        async with self._client.stream("GET", url, params=params) as resp:
            declared = resp.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise too_big
            chunks: list[bytes] = []
            total = 0
            async for chunk in resp.aiter_bytes():
                total += len(chunk)
                if total > limit:
                    raise too_big
                chunks.append(chunk)
        return resp, b"".join(chunks)

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` and decode JSON, retrying transient failures; raises a ``oneprice.core`` error."""
        url = self.url(path)
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        s = self.settings
        last: TransientError | None = None
        retry_after: float | None = None
        for attempt in range(s.http_max_retries + 1):
            if attempt:
                assert last is not None
                wait = backoff_delay(attempt - 1, s.http_backoff_base_s, s.http_backoff_max_s)
                if retry_after is not None:
                    if retry_after > s.http_retry_after_max_s:
                        msg = (
                            f"{self.venue} GET {_path(url)}: {last}, Retry-After {retry_after:.0f}s too long"
                        )
                        raise RateLimitedError(msg, retry_after)
                    wait = max(wait, retry_after)
                log.warning(
                    "%s GET %s: %s; retry %d/%d in %.2fs",
                    self.venue,
                    _path(url),
                    last,
                    attempt,
                    s.http_max_retries,
                    wait,
                )
                await self._sleep(wait)
            await self.bucket.acquire()
            self.requests += 1
            retry_after = None
            try:
                resp, content = await self._get(url, clean)
            except httpx.TimeoutException as exc:
                last = TransientError(f"timeout ({type(exc).__name__})")
                continue
            except httpx.DecodingError as exc:
                raise ParseError("malformed_body", f"{_path(url)}: {type(exc).__name__}") from None
            except httpx.TooManyRedirects:
                raise PermanentError(f"{self.venue} GET {_path(url)}: too many redirects") from None
            except httpx.RequestError as exc:
                last = TransientError(f"connection error ({type(exc).__name__})")
                continue
            status = resp.status_code
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            if status == 429:
                last = RateLimitedError("HTTP 429", retry_after)
                continue
            if status >= 500:
                last = TransientError(f"HTTP {status}")
                continue
            if status == 404:
                raise NotFoundError(f"{self.venue} GET {_path(url)}: HTTP 404")
            if status >= 400:
                raise PermanentError(f"{self.venue} GET {_path(url)}: HTTP {status}")
            try:
                return json.loads(content)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ParseError("malformed_json", f"{_path(url)}: {exc}") from None
        assert last is not None
        if isinstance(last, RateLimitedError):
            raise RateLimitedError(
                f"{self.venue} GET {_path(url)}: {last} after {s.http_max_retries} retries", last.retry_after
            )
        raise TransientError(f"{self.venue} GET {_path(url)}: {last} after {s.http_max_retries} retries")


def _path(url: str) -> str:
    """The URL without its query string (which may carry keys)."""
    return httpx.URL(url).copy_with(query=None).path
