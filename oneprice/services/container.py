"""The composition root: one ``Services`` object per configuration, built once by each front end.

``build_services(settings)`` makes the database engine (migrated once, on first use), the LLM chat
backend and anything else a use case needs, lazily. The CLI, the dashboard and scheduled scans build
one and pass it to service functions (``def use_case(svc: Services, ...)``); library code never calls
``get_settings()``. Two ``Services`` with different settings can live in one process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from oneprice.config import Settings

if TYPE_CHECKING:
    from oneprice.models.llm.backends import ChatBackend


@dataclass
class Services:
    settings: Settings
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @cached_property
    def engine(self) -> Engine:
        """The migrated engine of ``settings.resolved_db_url``."""
        from oneprice.db import init_db

        with self._lock:
            return init_db(self.settings.resolved_db_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        from oneprice.db.engine import session_scope

        with session_scope(self.engine) as s:
            yield s

    @cached_property
    def llm(self) -> ChatBackend:
        """The configured chat backend: the in-process engine or an OpenAI-compatible server."""
        from oneprice.services.llm import backend_for

        return backend_for(self.settings)


def build_services(settings: Settings | None = None) -> Services:
    """Services for ``settings`` (default: read from the environment once, here)."""
    return Services(settings if settings is not None else Settings())
