"""Alert sinks: webhook POST to a loopback server, sink failures isolated, settings wiring."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from oneprice.arbitrage.alerts import ConsoleSink, JsonlSink, WebhookSink, sinks_from_settings
from oneprice.config import Settings
from oneprice.core.errors import ConfigError


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append(json.loads(body))
            code = 500 if self.path == "/broken" else 204
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = HTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", got
    srv.shutdown()


def test_webhook_posts_json(hook: tuple[str, list[dict[str, Any]]]) -> None:
    url, got = hook
    asyncio.run(WebhookSink(SecretStr(f"{url}/hooks/secret-token")).send({"match_id": 7, "edge": "0.03"}))
    assert got == [{"match_id": 7, "edge": "0.03"}]


def test_webhook_error_status_raises(hook: tuple[str, list[dict[str, Any]]]) -> None:
    url, _ = hook
    with pytest.raises(RuntimeError, match="HTTP 500"):
        asyncio.run(WebhookSink(SecretStr(f"{url}/broken")).send({"x": 1}))


def test_sinks_from_settings(tmp_path: Path) -> None:
    s = Settings(
        arb_alert_sinks="console, jsonl, webhook",
        arb_alert_jsonl=tmp_path / "a.jsonl",
        webhook_url=SecretStr("http://127.0.0.1:9/hook"),
    )
    sinks = sinks_from_settings(s)
    assert [type(x) for x in sinks] == [ConsoleSink, JsonlSink, WebhookSink]
    assert "hook" not in repr(s.webhook_url)  # the secret never shows in reprs or logs
    with pytest.raises(ConfigError, match="ONEPRICE_WEBHOOK_URL is not set"):  # no silent no-op sink
        Settings(arb_alert_sinks="webhook", webhook_url=None)
    with pytest.raises(ConfigError, match="unknown sink 'bogus'"):  # refused when the settings load
        Settings(arb_alert_sinks="webhook,bogus")
