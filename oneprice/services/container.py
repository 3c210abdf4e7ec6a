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
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from oneprice.config import Settings

if TYPE_CHECKING:
    from oneprice.arbitrage.alerts import AlertSink
    from oneprice.ingest.base import VenueClient
    from oneprice.models.llm.backends import ChatBackend


@dataclass(eq=False)
class Services:
    settings: Settings
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @cached_property
    def engine(self) -> Engine:
        """The engine of ``settings.resolved_db_url``; its schema is migrated on first use if behind."""
        from oneprice.db import open_db

        with self._lock:
            return open_db(self.settings.resolved_db_url)

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

    def client(self, source: str, **overrides: Any) -> VenueClient:
        """A venue client configured by these settings (``overrides``: ``base_url=``, ``rate_per_s=``...)."""
        from oneprice.ingest import make_client

        overrides.setdefault("settings", self.settings)
        return make_client(source, **overrides)

    def alert_sinks(self) -> list[AlertSink]:
        """The alert sinks ``settings.arb_alert_sinks`` names."""
        from oneprice.arbitrage.alerts import sinks_from_settings

        return sinks_from_settings(self.settings)

    def close(self) -> None:
        """Release the engine's connections (a later use opens it again)."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()


def build_services(settings: Settings | None = None, **overrides: Any) -> Services:
    """Services for ``settings`` (default: read from the environment once, here, with ``overrides``
    such as ``db_url=``)."""
    if settings is None:
        return Services(Settings(**overrides))
    return Services(settings.model_copy(update=overrides) if overrides else settings)
