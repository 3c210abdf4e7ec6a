"""Where ../shared is: beside the checkout (main) or beside the worktrees' parent (git worktrees)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    env = os.environ.get("ONEPRICE_SHARED_DIR")
    for p in ([Path(env)] if env else []) + [ROOT.parent / "shared", ROOT.parent.parent / "shared"]:
        if (p / "data").is_dir():
            return p
    raise SystemExit("no ../shared/data beside this checkout; set ONEPRICE_SHARED_DIR")
