"""The ``oneprice`` command. Each module here adds its commands through ``register(app)``.

Command modules reach their services through ``lazy_module`` so that ``oneprice --help`` and each
command load only the subsystems they use (torch, scikit-learn and ccxt are slow to import).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


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
