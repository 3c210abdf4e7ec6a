"""The dashboard answers only loopback hosts (no DNS rebinding) and shows venue text as typed."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from oneprice.app import common
from oneprice.config import get_settings
from oneprice.core import Market, Outcome
from oneprice.db import init_db, session_scope
from oneprice.ingest.base import Page
from oneprice.ingest.store import write_page
from oneprice.services import dashboard

MAIN = Path(__file__).resolve().parents[2] / "oneprice" / "app" / "main.py"
NASTY = [
    "Will ![pixel](https://evil.example/p.png) happen?",
    "Will [click](javascript:alert(1)) <img src=https://evil.example/x> happen?",
    "Bitcoin above $100k by :red[June]? **bold** https://evil.example/auto",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = dict(os.environ, ONEPRICE_DATA_DIR=str(tmp_path_factory.mktemp("dash")))
    cmd = dashboard.streamlit_command(port, extra_origins="https://dash.example.com")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120  # a start-up guard, not a timing assertion
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _handshake(port: int, host: str, origin: str | None) -> str:
    lines = [
        "GET /_stcore/stream HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ] + ([f"Origin: {origin}"] if origin else [])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
        c.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return c.recv(200).split(b"\r\n")[0].decode()


@pytest.mark.parametrize(
    ("host", "origin", "status"),
    [
        ("127.0.0.1:{p}", "http://127.0.0.1:{p}", "101"),
        ("localhost:{p}", None, "101"),
        ("dash.example.com", "https://dash.example.com", "101"),  # an origin the settings allow
        ("evil.example:{p}", "http://evil.example:{p}", "403"),  # DNS rebinding: same-origin, wrong host
        ("127.0.0.1:{p}", "http://evil.example", "403"),  # a page on another origin
    ],
)
def test_only_allowed_hosts_and_origins_reach_the_websocket(
    server: int, host: str, origin: str | None, status: str
) -> None:
    got = _handshake(server, host.format(p=server), origin.format(p=server) if origin else None)
    assert got.split()[1] == status, got


@pytest.mark.parametrize("title", NASTY)
def test_escaped_venue_text_renders_no_image_link_or_html(title: str) -> None:
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(common.plain(title))
    assert "<img" not in html and "<a " not in html and "<strong>" not in html
    assert "evil.example" in html  # still shown, as text


def test_the_market_page_shows_a_markdown_title_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'dash.sqlite'}"
    engine = init_db(url)
    mk = Market(
        "kalshi",
        "KX-IMG-1",
        NASTY[0],
        outcomes=(Outcome("Yes"), Outcome("No")),
        category="![c](https://evil.example/c.png)",
        url="javascript:alert(1)",
        close_time=datetime(2030, 1, 1, tzinfo=UTC),
    )
    with session_scope(engine) as s:
        write_page(s, Page(items=[mk]))
    monkeypatch.setenv("ONEPRICE_DB_URL", url)
    get_settings.cache_clear()
    common.clear_caches()
    try:
        at = AppTest.from_file(str(MAIN), default_timeout=120)
        at.run()
        at.switch_page("views/markets.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        shown = [x.value for x in [*at.subheader, *at.markdown]]
        evil = [v for v in shown if "evil" in v or "javascript" in v]
        assert evil and all("](" not in v and "<img" not in v for v in evil), (
            shown,
            [i.value for i in at.info],
        )
        assert common.plain(NASTY[0]) in shown
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_oneprice", False)]:
            root.removeHandler(handler)
        get_settings.cache_clear()
        common.clear_caches()
