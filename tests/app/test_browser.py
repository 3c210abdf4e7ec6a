"""Real browser: `oneprice dashboard` serves the app on 127.0.0.1 and headless Chromium loads every page.

Screenshots land in artifacts/screenshots/<page>.png. Skipped, saying why, where Chromium is absent
(`make browser` installs Debian's chromium).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cdp import Browser, find_chromium
from app.conftest import GROUP
from oneprice.app.main import PAGES

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"

pytestmark = [GROUP, pytest.mark.slow, pytest.mark.timeout(480)]

# Text each page shows only once its script has run to the end on the filled database.
DRAWN = {
    "overview": "Rejected",
    "markets": "Order book",
    "matches": "Decisions are kept",
    "opportunities": "observation(s), one per scan",
    "backtests": "All metrics",
    "signals": "No signals stored",
}

# Height of the page's content (Streamlit scrolls inside its main section, not the document).
FULL_HEIGHT = """
(() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const block = document.querySelector('[data-testid="stMainBlockContainer"]');
  return Math.max(main ? main.scrollHeight : 0, block ? block.scrollHeight + 120 : 0);
})()
"""

# Truthy once the page's title and its last text are drawn and nothing runs; then what the page shows.
PAGE_STATE = """
(() => {
  const main = document.querySelector('[data-testid="stMain"]') || document.querySelector('section.main');
  if (!main) return null;
  const h1 = main.querySelector('h1');
  if (!h1 || h1.innerText.trim() !== %s) return null;
  if (!main.innerText.includes(%s)) return null;
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  if (status && /running/i.test(status.innerText)) return null;
  if (main.querySelector('[data-testid="stSkeleton"]')) return null;
  return {
    exceptions: [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText),
    errors: [...document.querySelectorAll('[data-testid="stAlertContentError"]')].map(e => e.innerText),
    text: main.innerText,
    charts: document.querySelectorAll('.js-plotly-plot').length,
  };
})()
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dashboard exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError("dashboard did not become healthy")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip(
            "chromium is not installed (`make browser` or `apt-get install chromium`): browser test skipped"
        )
    return path


@pytest.fixture(scope="module")
def server(filled_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`oneprice dashboard --port P --db URL` as a subprocess; yields its base URL."""
    port = _free_port()
    env = dict(os.environ, ONEPRICE_DATA_DIR=str(tmp_path_factory.mktemp("dash-data")), HF_HUB_OFFLINE="1")
    env.pop("ONEPRICE_DB_URL", None)
    log = tmp_path_factory.mktemp("dash-log") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "oneprice", "--db", filled_db, "dashboard", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            _wait_healthy(port, proc)
            yield f"http://127.0.0.1:{port}"
        except Exception:
            print(log.read_text(errors="replace")[-4000:])
            raise
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    server_log = log.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log[-4000:]


def test_every_page_renders_without_exception(server: str, chromium: str) -> None:
    browser = Browser(chromium)
    seen: dict[str, dict[str, object]] = {}
    try:
        for script, title, _icon, path in PAGES:
            name = Path(script).stem
            browser.navigate(f"{server}/{'' if path == PAGES[0][3] else path}")
            state = browser.wait_for(PAGE_STATE % (json.dumps(title), json.dumps(DRAWN[name])), timeout=120)
            browser.screenshot(SHOTS / f"{name}.png", full_height=FULL_HEIGHT)
            seen[name] = state
    finally:
        browser.close()
    for name, state in seen.items():
        assert state["exceptions"] == [], f"{name}: exception box: {state['exceptions']}"
        assert state["errors"] == [], f"{name}: error message: {state['errors']}"
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000
    assert "Venues" in str(seen["overview"]["text"])
    assert int(seen["markets"]["charts"]) >= 1  # price history of the selected market
    assert int(seen["opportunities"]["charts"]) >= 1  # deviation history of the selected pair
    assert int(seen["backtests"]["charts"]) >= 1  # equity of the latest run
