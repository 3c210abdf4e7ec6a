"""Field accessors shared by the parsers; each failure is a ``ParseError`` with a stable reason code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from oneprice.core import ParseError, to_prob


def record(value: Any, what: str = "record") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParseError(f"bad_type:{what}", f"expected an object, got {type(value).__name__}")
    return value


def get(d: Mapping[str, Any], *keys: str) -> Any:
    """The first present, non-null value among ``keys`` (camelCase and snake_case spellings)."""
    for k in keys:
        v = d.get(k)
        if v is not None:
            return v
    return None


def req_str(d: Mapping[str, Any], *keys: str, rid: str | None = None) -> str:
    v = get(d, *keys)
    if v is None or v == "":
        raise ParseError(f"missing_field:{keys[0]}", record_id=rid)
    if isinstance(v, bool) or not isinstance(v, str | int):
        raise ParseError(f"bad_type:{keys[0]}", repr(v)[:80], rid)
    return str(v)


def opt_str(d: Mapping[str, Any], *keys: str) -> str:
    v = get(d, *keys)
    return v if isinstance(v, str) else ""


def opt_bool(d: Mapping[str, Any], *keys: str, rid: str | None = None) -> bool | None:
    v = get(d, *keys)
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise ParseError(f"bad_type:{keys[0]}", repr(v)[:80], rid)


def parse_time(v: Any, key: str = "time", rid: str | None = None) -> datetime | None:
    """ISO-8601 text (``Z`` or offset) or epoch seconds/milliseconds to aware UTC; None when empty."""
    if v is None or v == "":
        return None
    try:
        if isinstance(v, bool):
            raise TypeError
        if isinstance(v, int | float) or (isinstance(v, str) and v.replace(".", "", 1).isdigit()):
            x = float(v)
            return datetime.fromtimestamp(x / 1000 if x > 1e11 else x, UTC)
        if isinstance(v, str):
            ts = datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
            return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
        raise TypeError
    except (TypeError, ValueError, OverflowError, OSError):
        raise ParseError(f"bad_time:{key}", repr(v)[:80], rid) from None


def prob(v: Any, key: str = "price", rid: str | None = None) -> Decimal | None:
    """A probability in [0, 1] or None when absent."""
    if v is None or v == "":
        return None
    try:
        return to_prob(v)
    except ValueError:
        raise ParseError(f"bad_price:{key}", repr(v)[:80], rid) from None


def size(v: Any, key: str = "size", rid: str | None = None) -> Decimal:
    if isinstance(v, bool) or v is None:
        raise ParseError(f"bad_size:{key}", repr(v)[:80], rid)
    try:
        d = Decimal(str(v).strip())
    except ArithmeticError:
        raise ParseError(f"bad_size:{key}", repr(v)[:80], rid) from None
    if not d.is_finite() or d < 0:
        raise ParseError(f"bad_size:{key}", repr(v)[:80], rid)
    return d


def json_list(v: Any, key: str, rid: str | None = None) -> list[Any]:
    """A list, or a JSON-encoded list in a string (Polymarket Gamma's ``outcomes`` and friends)."""
    if v is None or v == "":
        return []
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except json.JSONDecodeError:
            raise ParseError(f"bad_json_field:{key}", v[:80], rid) from None
    if not isinstance(v, list):
        raise ParseError(f"bad_type:{key}", repr(v)[:80], rid)
    return v
