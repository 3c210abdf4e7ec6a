"""Helpers every page shares: the ``Services`` of this server, cached service calls, errors, formatting.

Pages import the service functions they call from ``oneprice.services.*`` and call them only through
:func:`fetch` (cached read) or :func:`act` (uncached write), which pass this server's ``Services``. A
service that raises shows a message, never a traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from oneprice.config import Settings
from oneprice.services.container import Services, build_services
from oneprice.services.results import to_json

log = logging.getLogger(__name__)

# The commands that fill each part of the database, named by the empty states.
CMD_INGEST = "oneprice ingest --venue replay"
CMD_BARS = "oneprice ingest --venue ccxt:binance --symbol BTC/USDT"
CMD_ALIGN = "oneprice align run"
CMD_SCAN = "oneprice scan --once --source replay"
CMD_BACKTEST = "oneprice backtest run --strategy sma --timeframe 1d"

LIVE_TTL_S = 10  # books, opportunities, scans: refreshed often
DATA_TTL_S = 120  # listings, matches, backtest runs: change when a command runs


class Unavailable:
    """Marker returned when a service call could not produce data (missing or failed)."""

    def __bool__(self) -> bool:
        return False


UNAVAILABLE = Unavailable()


@st.cache_resource(show_spinner=False)
def _services(key: str, _settings: Settings) -> Services:
    return build_services(_settings)


def services() -> Services:
    """The ``Services`` of the current settings (read from the environment), built once per server
    process and per configuration (secrets stay out of the cache key: they dump masked)."""
    s = Settings()
    return _services(s.model_dump_json(), s)


def settings() -> Settings:
    return services().settings


def db_url() -> str:
    """The configured database URL (``ONEPRICE_DB_URL`` or the SQLite default)."""
    return services().settings.resolved_db_url


def safe_url(url: str) -> str:
    """``url`` with any password masked, for display."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def require_db() -> str:
    """Open the database (migrating it if needed) or stop the page with an error message."""
    url = db_url()
    try:
        with st.spinner("Opening the database..."):
            services().engine  # noqa: B018  (opens it, migrating once if behind)
    except Exception as exc:
        log.exception("cannot open database %s", safe_url(url))
        st.error(f"Cannot open the database {safe_url(url)}: {type(exc).__name__}: {exc}")
        st.info(
            "Set `ONEPRICE_DB_URL` or start with `oneprice dashboard --db URL`; "
            "`oneprice db upgrade` creates it."
        )
        st.stop()
    return url


ServiceFn = Callable[..., Any]  # a use case ``f(svc: Services, ...)``


def _name(fn: ServiceFn) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


# The cache key is the function's name, the configuration's database and the arguments; the function
# and the Services (underscored) are passed through unhashed.
@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def _cached_live(name: str, db: str, _fn: ServiceFn, _svc: Services, **kwargs: Any) -> Any:
    return _fn(_svc, **kwargs)


@st.cache_data(ttl=DATA_TTL_S, show_spinner=False)
def _cached_data(name: str, db: str, _fn: ServiceFn, _svc: Services, **kwargs: Any) -> Any:
    return _fn(_svc, **kwargs)


def _report(label: str, exc: Exception) -> Unavailable:
    log.exception("%s failed", label)
    st.error(f"{label} failed: {type(exc).__name__}: {exc}")
    return UNAVAILABLE


def fetch(label: str, fn: ServiceFn, *, live: bool = False, quiet: bool = False, **kwargs: Any) -> Any:
    """Cached read through a service; on failure show a message (unless ``quiet``), return ``UNAVAILABLE``."""
    try:
        svc = services()
        cached = _cached_live if live else _cached_data
        return cached(_name(fn), svc.settings.resolved_db_url, fn, svc, **kwargs)
    except Exception as exc:
        return UNAVAILABLE if quiet else _report(label, exc)


def act(label: str, fn: ServiceFn, **kwargs: Any) -> Any:
    """Uncached call that changes state; clears cached reads so pages show the new state."""
    try:
        result = fn(services(), **kwargs)
    except Exception as exc:
        return _report(label, exc)
    clear_caches()
    return result


def clear_caches() -> None:
    _cached_live.clear()
    _cached_data.clear()


def empty_state(what: str, command: str) -> None:
    """Say that there is nothing to show yet and which command fills it."""
    st.info(f"{what}: run `{command}`")


# ---- formatting -------------------------------------------------------------------------------------


def num(value: Any) -> float | None:
    """A float for display and charts (Decimal, str or number); None stays None."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def fmt_pct(value: Any, digits: int = 2) -> str:
    v = num(value)
    return "–" if v is None else f"{v * 100:.{digits}f}%"


def fmt_prob(value: Any) -> str:
    v = num(value)
    return "–" if v is None else f"{v:.3f}"


def fmt_money(value: Any) -> str:
    v = num(value)
    return "–" if v is None else f"${v:,.2f}"


def fmt_age(seconds: Any) -> str:
    s = num(seconds)
    if s is None:
        return "–"
    s = max(0.0, s)
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{int(s // 60)}m {int(s % 60):02d}s"
    if s < 86400:
        return f"{int(s // 3600)}h {int(s % 3600 // 60):02d}m"
    return f"{s / 86400:.1f}d"


def age_s(value: Any) -> float | None:
    """Seconds from ``value`` (a datetime or ISO text) to now."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (datetime.now(UTC) - value).total_seconds()


def fmt_ts(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping | list | tuple | set):
        return (
            ", ".join(f"{k}: {v}" for k, v in value.items())
            if isinstance(value, Mapping)
            else (", ".join(str(v) for v in value))
        )
    return value


def frame(rows: Iterable[Any], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A display frame from service rows (result dataclasses or mappings): Decimals become floats, nested
    values become text."""
    plain = [to_json(r) for r in rows]
    records = [{k: _cell(v) for k, v in r.items() if columns is None or k in columns} for r in plain]
    df = pd.DataFrame.from_records(records)
    if columns is not None:
        df = df.reindex(columns=[c for c in columns if c in df.columns])
    return df


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=:])")


def plain(text: object) -> str:
    """Venue text (titles, outcome names, categories) for a Markdown element, shown as typed: every
    Markdown and HTML character escaped, so a title can never make the browser fetch an image or open
    a link. Line breaks become spaces."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def safe_link(url: object) -> str | None:
    """``url`` when it is a plain http(s) address a Markdown link may carry, else None."""
    u = str(url or "").strip()
    ok = u.startswith(("https://", "http://")) and not any(c in u for c in ' ()<>[]"\\')
    return u if ok else None
