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


def streamlit_command(port: int, address: str = "127.0.0.1", python: str | None = None) -> list[str]:
    """The argv that serves the dashboard headless on ``address:port`` without telemetry."""
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
    proc = subprocess.Popen(streamlit_command(port, address), env=dashboard_env(svc.settings.db_url))

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
