"""The one logging setup. Call ``setup_logging()`` once from an entry point (CLI, app, scheduler)."""

from __future__ import annotations

import json
import logging
import re
import sys

_SECRET = re.compile(
    r"(?i)(api[_-]?key|token|secret|password|authorization|signature)([\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
)


class RedactSecrets(logging.Filter):
    """Mask anything that looks like a credential in a formatted log message."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        red = _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", msg)
        if red != msg:
            record.msg, record.args = red, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


def setup_logging(level: str = "INFO", json_lines: bool = False) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_oneprice", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._oneprice = True  # type: ignore[attr-defined]
    handler.addFilter(RedactSecrets())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "urllib3", "filelock", "alembic"):  # no migration chatter
        logging.getLogger(noisy).setLevel(logging.WARNING)
