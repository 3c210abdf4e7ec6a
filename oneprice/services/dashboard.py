"""Dashboard use cases: the command that serves the Streamlit app, and small reads the pages need."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from oneprice.core.errors import ConfigError
from oneprice.db import Match
from oneprice.services.container import Services

APP_SCRIPT = Path(__file__).resolve().parent.parent / "app" / "main.py"


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def allowed_hosts(extra: str = "") -> list[str]:
    """Host names the server answers to: the loopback names plus ``extra`` (comma-separated)."""
    names = [*LOOPBACK_HOSTS, *(h.strip() for h in extra.split(",") if h.strip())]
    return list(dict.fromkeys(names))


def origins(port: int, extra: str = "") -> list[str]:
    """Browser origins allowed to reach the server: its own loopback URLs plus ``extra``."""
    own = [f"http://{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]")]
    return list(dict.fromkeys([*own, *(o.strip().rstrip("/") for o in extra.split(",") if o.strip())]))


def _host_of(origin: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(origin if "//" in origin else f"//{origin}").hostname or ""


def streamlit_command(
    port: int, address: str = "127.0.0.1", python: str | None = None, extra_origins: str = ""
) -> list[str]:
    """The argv that serves the dashboard headless on ``address:port`` without telemetry.

    Only loopback Host headers (and the hosts of ``extra_origins``) reach the app's WebSocket, so a page
    on another origin resolving its name to 127.0.0.1 (DNS rebinding) is refused; CORS and XSRF
    protection stay on, with only our own origins allowed."""
    hosts = allowed_hosts(",".join(_host_of(o) for o in extra_origins.split(",") if o.strip()))
    security: list[str] = ["--server.enableCORS", "true", "--server.enableXsrfProtection", "true"]
    for h in hosts:
        security += ["--server.allowedHosts", h]
    for o in origins(port, extra_origins):
        security += ["--server.corsAllowedOrigins", o]
    return [
        python or sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_SCRIPT),
        "--server.headless",
        "true",
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
        *security,
    ]


def dashboard_env(db_url: str | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the server: ``db_url`` (when given) becomes ``ONEPRICE_DB_URL``."""
    env = dict(os.environ if base is None else base)
    if db_url:
        env["ONEPRICE_DB_URL"] = db_url
    return env


def serve(svc: Services, port: int | None = None, address: str = "127.0.0.1") -> int:
    """Serve the dashboard of ``svc``'s database in the foreground until interrupted; returns the
    server's exit status. The server process builds its own ``Services`` from the same settings."""
    import importlib.util

    if importlib.util.find_spec("streamlit") is None:
        raise ConfigError("the dashboard needs streamlit: pip install 'oneprice[dashboard]'")
    port = port or svc.settings.dashboard_port
    cmd = streamlit_command(port, address, extra_origins=svc.settings.dashboard_allowed_origins)
    proc = subprocess.Popen(cmd, env=dashboard_env(svc.settings.db_url))

    def _stop(signum: int, _frame: object) -> None:  # SIGTERM stops the server too, never orphans it
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True)
class MatchCounts:
    status: dict[str, int]  # matches per review status
    relation: dict[str, int]  # matches per relation


def match_counts(svc: Services) -> MatchCounts:
    """Matches counted by review status and by relation (the alignment service lists, never counts)."""
    with svc.session() as s:
        by_status = {
            str(k): int(n) for k, n in s.execute(select(Match.status, func.count()).group_by(Match.status))
        }
        by_relation = {
            str(k): int(n)
            for k, n in s.execute(select(Match.relation, func.count()).group_by(Match.relation))
        }
    return MatchCounts(by_status, by_relation)
