"""The ``oneprice`` command. Each module here adds its commands through ``register(app)``.

The root command (``cli/main.py``) reads the settings once (``--db URL`` overrides the database) and
every command reaches the use cases through :func:`services`, the one ``Services`` of this invocation.
Command modules reach their service modules through ``lazy_module`` so that ``oneprice --help`` and each
command load only the subsystems they use (torch, scikit-learn and ccxt are slow to import).

Exit codes: 0 success; 1 the work ran and failed (a failed ingest run or scan); 2 bad usage or input
(an unknown choice, a malformed option, file or setting, a configuration error); 3 not found (an id,
a file's rows); 4 a venue or service failed transiently (retry later); 130 interrupted.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from oneprice.config import Settings
    from oneprice.services.container import Services

EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_TRANSIENT = 1, 2, 3, 4


class _LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it on first attribute access."""
    return _LazyModule(name)


def fail(message: str, exit_code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``error: message`` (one line) on stderr; returns the ``Exit`` to raise."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return typer.Exit(exit_code)


@dataclass
class _Invocation:
    settings: Settings | None = None
    svc: Services | None = None


_current = _Invocation()


def start(settings: Settings) -> None:
    """Called by the root command: the settings of this invocation (a later ``services()`` uses them)."""
    end()
    _current.settings = settings


def end() -> None:
    """Release the invocation's ``Services`` (its engine's connections)."""
    if _current.svc is not None:
        _current.svc.close()
    _current.svc = _current.settings = None


def services() -> Services:
    """The ``Services`` of this invocation, built once from the root command's settings."""
    from oneprice.services.container import build_services

    if _current.svc is None:
        _current.svc = build_services(_current.settings)
    return _current.svc
