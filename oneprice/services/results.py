"""The one way service results become plain data: ``to_json`` (for ``--json`` output, reports and
display frames).

Services return frozen dataclasses. ``to_json`` turns one (or a list or dict of them) into dicts and
lists with the field names as keys, recursively, like :func:`dataclasses.asdict`, plus two field
options that keep a result's JSON shape where its keys are data:

- ``field(metadata=INLINE)`` on a ``dict`` field merges its items into the enclosing object (a
  benchmark's per-timeframe blocks, a table of runs keyed by name);
- ``field(metadata=OMIT_NONE)`` leaves the key out while the value is ``None`` (a part present only
  when asked for, such as metrics against labels).

Values themselves (Decimal, datetime) are kept as they are; the caller's ``json.dumps`` decides.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

INLINE = {"inline": True}
OMIT_NONE = {"omit_none": True}


def to_json(x: Any) -> Any:
    """Plain dicts and lists of a result dataclass (or a list, tuple or dict of them)."""
    if is_dataclass(x) and not isinstance(x, type):
        out: dict[str, Any] = {}
        for f in fields(x):
            v = getattr(x, f.name)
            if f.metadata.get("omit_none") and v is None:
                continue
            if f.metadata.get("inline"):
                out.update(to_json(v))
            else:
                out[f.name] = to_json(v)
        return out
    if isinstance(x, list | tuple):
        return [to_json(v) for v in x]
    if isinstance(x, dict):
        return {k: to_json(v) for k, v in x.items()}
    return x
