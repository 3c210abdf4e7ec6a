"""A real ingest process killed with SIGKILL mid-run: no half-written page, and the next run resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from oneprice.db import IngestRun, Market, Outcome, init_db, session_scope
from oneprice.ingest import snapshot
from oneprice.services import ingest as svc
from oneprice.services.container import build_services


@pytest.mark.slow
def test_sigkill_midway_leaves_whole_pages_and_resume_completes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'killed.sqlite'}"
    engine = init_db(url)
    env = {**os.environ, "ONEPRICE_INGEST_PAGE_SIZE": "40", "ONEPRICE_DATA_DIR": str(tmp_path / "data")}
    code = "import sys\nfrom oneprice.services import ingest as s\n"
    code += "from oneprice.services.container import build_services\n"
    code += "s.ingest(build_services(db_url=sys.argv[1]), 'replay', timeframe='1d')"
    cmd = [sys.executable, "-c", code, url]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            with session_scope(engine) as s:
                cp = s.scalars(select(IngestRun.checkpoint)).first()
            if cp and (cp.get("stream") != 0 or int(cp.get("cursor") or 0) >= 1000):
                break  # well into the markets (or, on a fast machine, already past them)
            time.sleep(0.005)
        assert proc.poll() is None, "the ingest finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    with session_scope(engine) as s:
        run = s.scalars(select(IngestRun)).one()
        markets = s.scalar(select(func.count()).select_from(Market)) or 0
        outcomes = s.scalar(select(func.count()).select_from(Outcome)) or 0
    assert run.status == "running"  # nobody could record the kill
    total = snapshot.manifest()["files"]["markets.jsonl.gz"]["rows"]
    committed = int(run.checkpoint["cursor"]) if run.checkpoint["stream"] == 0 else total
    assert markets == committed and outcomes == 2 * markets  # whole pages only
    assert markets % 40 == 0 or markets == total

    resumed = svc.ingest(build_services(db_url=url), "replay", timeframe="1d")
    assert resumed.status == "ok" and resumed.resumed_from == run.id
    assert resumed.tables.get("markets", {}).get("inserted", 0) == total - markets
    again = svc.ingest(build_services(db_url=url), "replay", timeframe="1d")
    assert again.status == "ok" and again.inserted == 0 and again.updated == 0 and again.resumed_from is None
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Market)) == 10846
    engine.dispose()
