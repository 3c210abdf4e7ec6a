"""A minimal headless-Chromium driver over the DevTools protocol (loopback websocket only)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium with a fresh profile and one page driven over CDP."""

    def __init__(self, binary: str, width: int = 1440, height: int = 1600) -> None:
        self.width, self.height = width, height
        self.profile = Path(tempfile.mkdtemp(prefix="oneprice-chromium-"))
        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = self._devtools_port()
        target = self._page_target(port)
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(target, max_size=64 * 2**20, open_timeout=20)
        )
        self._id = 0
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _devtools_port(self, timeout: float = 30) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self.proc.returncode}")
            if marker.exists():
                lines = marker.read_text().splitlines()
                if lines and lines[0].isdigit():
                    return int(lines[0])
            time.sleep(0.1)
        raise TimeoutError("chromium did not open its DevTools port")

    def _page_target(self, port: int, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
                targets = json.load(resp)
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.2)
        raise TimeoutError("chromium has no page target")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a CDP method and return its result (events arriving meanwhile are dropped)."""
        self._id += 1
        msg_id = self._id
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"script error: {res['exceptionDetails']}")
        return res.get("result", {}).get("value")

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def wait_for(self, expression: str, timeout: float = 60, settle: float = 1.5) -> Any:
        """Poll ``expression`` until it is truthy and stays so for ``settle`` seconds; return its value."""
        deadline = time.monotonic() + timeout
        since: float | None = None
        value: Any = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                since = since or time.monotonic()
                if time.monotonic() - since >= settle:
                    return value
            else:
                since = None
            time.sleep(0.25)
        raise TimeoutError(f"timed out waiting for {expression!r}; last value {value!r}")

    def screenshot(self, path: Path, full_height: str | None = None, max_height: int = 8000) -> None:
        """Save a PNG; with ``full_height`` (a script giving the content height) grow the viewport first."""
        if full_height:
            height = min(max(int(self.evaluate(full_height) or 0), self.height), max_height)
            self.send(
                "Emulation.setDeviceMetricsOverride",
                width=self.width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            time.sleep(1.5)  # let charts re-layout
        data = self.send("Page.captureScreenshot", format="png")["data"]
        if full_height:
            self.send(
                "Emulation.setDeviceMetricsOverride",
                width=self.width,
                height=self.height,
                deviceScaleFactor=1,
                mobile=False,
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)
