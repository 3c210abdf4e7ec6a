"""The shared HTTP layer against a real loopback server: retries, Retry-After, error mapping, rate limit."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from oneprice.config import Settings
from oneprice.core import NotFoundError, ParseError, PermanentError, RateLimitedError, TransientError
from oneprice.ingest.http import HttpClient, TokenBucket, backoff_delay, parse_retry_after

from .conftest import FakeVenue, Reply, Sleeps


def test_parse_retry_after_seconds_date_and_garbage() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_grows_exponentially_with_jitter_and_cap() -> None:
    for attempt in range(8):
        d = min(10.0, 0.5 * 2**attempt)
        for _ in range(50):
            assert d / 2 <= backoff_delay(attempt, 0.5, 10.0) <= d


async def test_500_then_success(fake: FakeVenue, settings: Settings) -> None:
    fake.route(
        "/x", [Reply(500, {"err": 1}), Reply(502, b"<html>bad gateway</html>"), Reply(200, {"ok": True})]
    )
    http = HttpClient("kalshi", fake.url, settings=settings)
    assert await http.get_json("/x") == {"ok": True}
    assert http.requests == 3
    await http.aclose()


async def test_429_honours_retry_after_seconds_and_date(
    fake: FakeVenue, settings: Settings, sleeps: Sleeps
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=42), usegmt=True)
    fake.route(
        "/x",
        [Reply(429, {}, {"Retry-After": "7"}), Reply(503, {}, {"Retry-After": when}), Reply(200, [1, 2])],
    )
    http = HttpClient("kalshi", fake.url, settings=settings, sleep=sleeps)
    assert await http.get_json("/x") == [1, 2]
    assert sleeps.delays[0] == 7.0
    assert 38 <= sleeps.delays[1] <= 42
    await http.aclose()


async def test_429_forever_raises_rate_limited(fake: FakeVenue, settings: Settings, sleeps: Sleeps) -> None:
    fake.route("/x", [Reply(429, {}, {"Retry-After": "1"})])
    http = HttpClient("kalshi", fake.url, settings=settings, sleep=sleeps)
    with pytest.raises(RateLimitedError) as err:
        await http.get_json("/x")
    assert http.requests == settings.http_max_retries + 1
    assert err.value.retry_after == 1.0
    await http.aclose()


async def test_retry_after_beyond_cap_fails_fast(fake: FakeVenue, settings: Settings, sleeps: Sleeps) -> None:
    fake.route("/x", [Reply(429, {}, {"Retry-After": "3600"}), Reply(200, {})])
    http = HttpClient("kalshi", fake.url, settings=settings, sleep=sleeps)
    with pytest.raises(RateLimitedError):
        await http.get_json("/x")
    assert sleeps.delays == []
    await http.aclose()


async def test_5xx_forever_raises_transient(fake: FakeVenue, settings: Settings) -> None:
    fake.route("/x", [Reply(503, {})])
    http = HttpClient("kalshi", fake.url, settings=settings)
    with pytest.raises(TransientError) as err:
        await http.get_json("/x")
    assert not isinstance(err.value, RateLimitedError)
    assert http.requests == settings.http_max_retries + 1
    await http.aclose()


@pytest.mark.parametrize(
    ("status", "error"), [(404, NotFoundError), (400, PermanentError), (403, PermanentError)]
)
async def test_4xx_is_permanent_and_not_retried(
    fake: FakeVenue, settings: Settings, status: int, error: type
) -> None:
    fake.route("/x", [Reply(status, {"error": "no"})])
    http = HttpClient("kalshi", fake.url, settings=settings)
    with pytest.raises(error):
        await http.get_json("/x")
    assert http.requests == 1
    await http.aclose()


async def test_malformed_json_is_a_parse_error(fake: FakeVenue, settings: Settings) -> None:
    fake.route("/x", [Reply(200, b'{"markets": [1, 2,')])
    http = HttpClient("kalshi", fake.url, settings=settings)
    with pytest.raises(ParseError) as err:
        await http.get_json("/x")
    assert err.value.reason == "malformed_json"
    await http.aclose()


async def test_timeout_then_success_and_timeout_forever(fake: FakeVenue) -> None:
    s = Settings(http_timeout_s=0.2, http_max_retries=2, http_backoff_base_s=0.001, http_backoff_max_s=0.002)
    fake.route("/slow-once", [Reply(200, {"late": True}, delay=0.6), Reply(200, {"ok": 1})])
    fake.route("/slow", [Reply(200, {}, delay=0.6)])
    http = HttpClient("kalshi", fake.url, settings=s, rate_per_s=1000)
    assert await http.get_json("/slow-once") == {"ok": 1}
    with pytest.raises(TransientError, match="timeout"):
        await http.get_json("/slow")
    assert http.requests == 2 + 3
    await http.aclose()


async def test_connection_refused_is_transient(settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    http = HttpClient("kalshi", f"http://127.0.0.1:{port}", settings=settings)
    with pytest.raises(TransientError, match="connection"):
        await http.get_json("/x")
    await http.aclose()


async def test_query_strings_never_logged(
    fake: FakeVenue, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    fake.route("/x", [Reply(500, {}), Reply(200, {})])
    http = HttpClient("kalshi", fake.url, settings=settings)
    with caplog.at_level(logging.WARNING):
        await http.get_json("/x", {"api_key": "s3cr3t-value"})
    assert "retry 1/3" in caplog.text
    assert "s3cr3t-value" not in caplog.text
    assert fake.hits("/x")[0]["api_key"] == "s3cr3t-value"
    await http.aclose()


async def test_token_bucket_paces_requests() -> None:
    bucket = TokenBucket(rate=50, burst=1)
    start = time.monotonic()
    for _ in range(6):
        await bucket.acquire()
    assert time.monotonic() - start >= 5 / 50 * 0.9  # five waits of 1/50 s after the first token


async def test_undecodable_body_is_a_parse_error(fake: FakeVenue, settings: Settings) -> None:
    fake.route("/x", [Reply(200, b"this is not gzip", {"Content-Encoding": "gzip"})])
    http = HttpClient("kalshi", fake.url, settings=settings)
    with pytest.raises(ParseError) as err:
        await http.get_json("/x")
    assert err.value.reason == "malformed_body" and http.requests == 1
    await http.aclose()
