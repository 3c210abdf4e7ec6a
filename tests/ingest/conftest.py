"""A real HTTP server on 127.0.0.1 that replays fixtures, and settings with tiny retry delays."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from oneprice.config import Settings

FIX = Path(__file__).parents[1] / "fixtures" / "ingest"


def load(rel: str) -> Any:
    return json.loads((FIX / rel).read_text())


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Handler = Callable[[dict[str, str]], Reply | Any]


class FakeVenue:
    """Routes by path. A route is a handler(query) -> Reply (or JSON body), or a scripted list of replies
    served in turn (the last one repeats). ``calls`` records (path, query) of every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler | list[Reply]] = {}
        self.calls: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, path: str, handler: Handler | list[Reply] | Any) -> None:
        if not callable(handler) and not isinstance(handler, list):
            body = handler
            self.routes[path] = lambda q: body
        else:
            self.routes[path] = handler

    def hits(self, path: str) -> list[dict[str, str]]:
        return [q for p, q in self.calls if p == path]

    def _dispatch(self, path: str, query: dict[str, str]) -> Reply:
        with self._lock:
            self.calls.append((path, query))
            h = self.routes.get(path)
            if isinstance(h, list):
                return h.pop(0) if len(h) > 1 else h[0]
        if h is None:
            return Reply(404, {"error": f"no route {path}"})
        out = h(query)
        return out if isinstance(out, Reply) else Reply(200, out)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        venue = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                r = venue._dispatch(parts.path, query)
                if r.delay:
                    time.sleep(r.delay)
                body = r.body if isinstance(r.body, bytes) else json.dumps(r.body).encode()
                try:
                    self.send_response(r.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in r.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        return H

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeVenue]:
    v = FakeVenue()
    yield v
    v.close()


@pytest.fixture
def settings() -> Settings:
    """Fast retries and no real rate limiting, for tests."""
    return Settings(
        http_max_retries=3,
        http_backoff_base_s=0.001,
        http_backoff_max_s=0.005,
        http_timeout_s=2.0,
        rate_kalshi=1000,
        rate_polymarket=1000,
        rate_manifold=1000,
        rate_predictit=1000,
    )


class Sleeps:
    """A stand-in for asyncio.sleep that records the requested delays without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
