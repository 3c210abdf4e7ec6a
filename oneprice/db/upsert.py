"""Bulk, idempotent upserts on natural keys for SQLite and PostgreSQL.

Rows whose values are unchanged are not touched, so re-running an ingest reports zero updates and
leaves every row as it was. Counts distinguish inserted from updated rows.

SQLite takes a fast path for tables with an integer ``id`` key: multi-row ``INSERT ... VALUES ... ON
CONFLICT ... RETURNING`` through the driver with SQLAlchemy's own bind/result processors, telling inserted
rows (new ``id`` above the previous maximum) from updated ones without a prior SELECT.
PostgreSQL takes a fast path: each chunk is ONE statement whose parameters are one text array per column
(``INSERT ... SELECT ... FROM unnest(...) ON CONFLICT ... RETURNING ..., xmax = 0``), so no per-row
placeholders are rendered or parsed and inserted rows are told from updated ones without a prior SELECT.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import String, Table, and_, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

from oneprice.db.base import UTCDateTime


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertCounts) -> UpsertCounts:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


def _table(model: Any) -> Table:
    return model.__table__ if hasattr(model, "__table__") else model


def upsert(
    session: Session,
    model: Any,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    chunk: int = 1000,
    returning: str | None = None,
) -> tuple[UpsertCounts, dict[tuple[Any, ...], Any]]:
    """Insert ``rows`` or update them on conflict of ``keys``.

    ``update`` lists the columns refreshed on conflict (default: every non-key column present in the
    rows). Returns the counts and, when ``returning`` names a column (usually ``id``), a map from each
    row's key tuple to that column's value for every row written or already present.
    """
    table = _table(model)
    counts = UpsertCounts()
    ids: dict[tuple[Any, ...], Any] = {}
    if not rows:
        return counts, ids
    cols = list(rows[0].keys())
    upd = [c for c in (update if update is not None else cols) if c not in keys]
    dialect = session.get_bind().dialect.name
    ins_mod: Any = postgresql if dialect == "postgresql" else sqlite
    key_cols = [table.c[k] for k in keys]
    # de-duplicate within the batch: last row wins, like a sequence of single upserts
    uniq: dict[tuple[Any, ...], dict[str, Any]] = {}
    get_key = itemgetter(*keys)
    if len(keys) == 1:
        for r in rows:
            uniq[(get_key(r),)] = r
    else:
        for r in rows:
            uniq[get_key(r)] = r
    items = list(uniq.items())
    # rows holding SQL expressions (or differing columns) take the general path below
    first = rows[0].keys()
    plain = not any(isinstance(v, ClauseElement) for v in rows[0].values())
    plain = plain and all(r.keys() == first for r in rows)
    if plain and dialect == "postgresql":
        for start in range(0, len(items), chunk * 5):
            _upsert_pg(session, table, items[start : start + chunk * 5], keys, upd, returning, counts, ids)
        return counts, ids
    if plain and dialect == "sqlite" and "id" in table.c and table.c.id.primary_key and "id" not in cols:
        _upsert_sqlite(session, table, items, keys, upd, returning, counts, ids)
        return counts, ids
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        want = [k for k, _ in part]
        existing: dict[tuple[Any, ...], Any] = {}
        sel_cols = [*key_cols, table.c[returning]] if returning else key_cols
        q = (
            select(*sel_cols).where(tuple_(*key_cols).in_(want))
            if len(keys) > 1
            else (select(*sel_cols).where(key_cols[0].in_([k[0] for k in want])))
        )
        for rec in session.execute(q):
            existing[tuple(rec[: len(keys)])] = rec[len(keys)] if returning else None
        # executemany of one cached statement (SQLAlchemy "insertmanyvalues" batches it into multi-row
        # INSERT ... RETURNING), instead of compiling a fresh multi-VALUES statement per chunk
        stmt = ins_mod.insert(table)
        if not plain:
            stmt = stmt.values([r for _, r in part])
        if upd:
            exc = stmt.excluded
            changed = or_(*[table.c[c].is_distinct_from(exc[c]) for c in upd])
            stmt = stmt.on_conflict_do_update(
                index_elements=key_cols, set_={c: exc[c] for c in upd}, where=changed
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=key_cols)
        stmt = stmt.returning(*sel_cols)
        touched = 0
        for rec in session.execute(stmt, [r for _, r in part]) if plain else session.execute(stmt):
            key = tuple(rec[: len(keys)])
            if returning:
                ids[key] = rec[len(keys)]
            if key in existing:
                counts.updated += 1
            else:
                counts.inserted += 1
            touched += 1
        counts.unchanged += len(part) - touched
        if returning:
            for key, val in existing.items():
                ids.setdefault(key, val)
    return counts, ids


_PG = postgresql.dialect()


def _pg_type(table: Table, col: str) -> str:
    typ = table.c[col].type
    return "TEXT" if isinstance(typ, String) else typ.compile(dialect=_PG)


def _as_text(v: Any) -> str | None:
    """A value as PostgreSQL input text (the statement casts it back to the column's type)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, datetime):
        return (v.replace(tzinfo=UTC) if v.tzinfo is None else v).isoformat()
    if isinstance(v, dict | list | tuple):
        return json.dumps(v, default=str)
    return str(v)


def _defaults(table: Table, cols: Sequence[str]) -> dict[str, Any]:
    """Python-side column defaults of the columns missing from the rows (as Core inserts would apply)."""
    out: dict[str, Any] = {}
    for c in table.c:
        d = c.default
        if c.name in cols or d is None or not hasattr(d, "arg"):
            continue
        out[c.name] = d.arg(None) if callable(d.arg) else d.arg
    return out


def _texts(vals: list[Any]) -> list[str | None]:
    """``_as_text`` over a column, with a fast path for the common all-text and all-float columns."""
    kinds = {type(v) for v in vals}
    if kinds <= {str, type(None)}:
        return vals
    if kinds == {float}:
        return list(map(repr, vals))
    return list(map(_as_text, vals))


def _unnest(table: Table, cols: Sequence[str], alias: str) -> str:
    arrays = ", ".join("%b::text[]" for _ in cols)  # binary arrays: no per-element escaping
    return f"unnest({arrays}) AS {alias}({', '.join(f'c{i}' for i in range(len(cols)))})"


def _upsert_pg(
    session: Session,
    table: Table,
    part: list[tuple[tuple[Any, ...], dict[str, Any]]],
    keys: Sequence[str],
    upd: Sequence[str],
    returning: str | None,
    counts: UpsertCounts,
    ids: dict[tuple[Any, ...], Any],
) -> None:
    cols = list(part[0][1].keys())
    defaults = _defaults(table, cols)
    cols += list(defaults)
    q = '"{}"'.format
    casts = ", ".join(f"v.c{i}::{_pg_type(table, c)}" for i, c in enumerate(cols))
    ret = [*keys, returning] if returning else list(keys)
    sql = (
        f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in cols)}) "
        f"SELECT {casts} FROM {_unnest(table, cols, 'v')} ON CONFLICT ({', '.join(q(k) for k in keys)}) "
    )
    if upd:
        changed = " OR ".join(f"{q(table.name)}.{q(c)} IS DISTINCT FROM EXCLUDED.{q(c)}" for c in upd)
        sql += f"DO UPDATE SET {', '.join(f'{q(c)} = EXCLUDED.{q(c)}' for c in upd)} WHERE {changed}"
    else:
        sql += "DO NOTHING"
    params = tuple(
        [_as_text(defaults[c])] * len(part) if c in defaults else _texts([r[c] for _, r in part])
        for c in cols
    )
    conn = session.connection()
    if not returning:  # counts only: one summary row instead of one row per written row
        sql = f"WITH w AS ({sql} RETURNING (xmax = 0) AS ins) "
        sql += "SELECT count(*) FILTER (WHERE ins), count(*) FROM w"
        new, touched = conn.exec_driver_sql(sql, params).one()
        counts.inserted += new
        counts.updated += touched - new
        counts.unchanged += len(part) - touched
        return
    sql += f" RETURNING {', '.join(q(c) for c in ret)}, (xmax = 0)"
    n = len(keys)
    seen: set[tuple[Any, ...]] = set()
    for rec in conn.exec_driver_sql(sql, params):
        key = tuple(rec[:n])
        seen.add(key)
        if returning:
            ids[key] = rec[n]
        if rec[-1]:
            counts.inserted += 1
        else:
            counts.updated += 1
    counts.unchanged += len(part) - len(seen)
    if returning and len(seen) < len(part):
        rest = [k for k, _ in part if k not in seen]
        on = " AND ".join(f"t.{q(k)} = v.c{i}::{_pg_type(table, k)}" for i, k in enumerate(keys))
        sel = f"SELECT {', '.join(f't.{q(c)}' for c in ret)} FROM {q(table.name)} t "
        sel += f"JOIN {_unnest(table, keys, 'v')} ON {on}"
        for rec in conn.exec_driver_sql(sel, tuple([_as_text(k[i]) for k in rest] for i in range(n))):
            ids.setdefault(tuple(rec[:n]), rec[n])


_SAMPLE = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def _fast_utc(v: datetime | None) -> str | None:
    if v is None:
        return None
    if v.tzinfo is not None and v.utcoffset():
        v = v.astimezone(UTC)
    return v.isoformat(" ", "microseconds")[:26]  # naive UTC text, offset dropped


def _sqlite_bind(table: Table, col: str, dialect: Any) -> Any:
    """The column's bind processor; for UTC datetimes a faster equivalent, checked against it."""
    typ = table.c[col].type
    proc = typ._cached_bind_processor(dialect)
    if isinstance(typ, UTCDateTime) and proc is not None and proc(_SAMPLE) == _fast_utc(_SAMPLE):
        return _fast_utc
    return proc


def _upsert_sqlite(
    session: Session,
    table: Table,
    items: list[tuple[tuple[Any, ...], dict[str, Any]]],
    keys: Sequence[str],
    upd: Sequence[str],
    returning: str | None,
    counts: UpsertCounts,
    ids: dict[tuple[Any, ...], Any],
) -> None:
    cols = list(items[0][1].keys())
    defaults = _defaults(table, cols)
    cols += list(defaults)
    conn = session.connection()
    dialect = conn.dialect
    binds = [_sqlite_bind(table, c, dialect) for c in cols]
    ret = [] if not returning else [*keys, "id"] if returning == "id" else [*keys, returning, "id"]
    results = [table.c[c].type._cached_result_processor(dialect, None) for c in ret]
    q = '"{}"'.format
    head = f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in cols)}) VALUES "
    tail = f" ON CONFLICT ({', '.join(q(k) for k in keys)}) "
    if upd:
        changed = " OR ".join(f"{q(table.name)}.{q(c)} IS NOT excluded.{q(c)}" for c in upd)
        tail += f"DO UPDATE SET {', '.join(f'{q(c)} = excluded.{q(c)}' for c in upd)} WHERE {changed}"
    else:
        tail += "DO NOTHING"
    if returning:
        tail += f" RETURNING {', '.join(q(c) for c in ret)}"
    row_sql = "(" + ", ".join("?" for _ in cols) + ")"
    per = max(1, 32000 // len(cols))  # SQLite allows 32,766 bound variables per statement
    n = len(keys)
    dvals = [defaults.get(c) for c in cols]
    for start in range(0, len(items), per):
        part = items[start : start + per]
        max_id: int = conn.exec_driver_sql(f"SELECT max(id) FROM {q(table.name)}").scalar() or 0
        columns: list[list[Any]] = []
        for c, bind, dv in zip(cols, binds, dvals, strict=True):
            if c in defaults:
                columns.append([bind(dv) if bind is not None else dv] * len(part))
            else:
                vals = [r[c] for _, r in part]
                columns.append(list(map(bind, vals)) if bind is not None else vals)
        params = tuple(chain.from_iterable(zip(*columns, strict=True)))
        seen: set[tuple[Any, ...]] = set()
        sql = head + ", ".join([row_sql] * len(part)) + tail
        if not returning:  # counts only: rows changed, and how many of them got a new id
            touched: int = conn.exec_driver_sql(sql, params).rowcount
            new = conn.exec_driver_sql(
                f"SELECT count(*) FROM {q(table.name)} WHERE id > ?", (max_id,)
            ).scalar()
            counts.inserted += new or 0
            counts.updated += touched - (new or 0)
            counts.unchanged += len(part) - touched
            continue
        returned = 0
        for raw in conn.exec_driver_sql(sql, params):
            returned += 1
            if raw[-1] > max_id:
                counts.inserted += 1
            else:
                counts.updated += 1
            if returning:
                rec = [f(v) if f is not None else v for f, v in zip(results, raw, strict=True)]
                key = tuple(rec[:n])
                seen.add(key)
                ids[key] = rec[n]
        counts.unchanged += len(part) - returned
        if returning and len(seen) < len(part):
            rest = [k for k, _ in part if k not in seen]
            key_cols = [table.c[k] for k in keys]
            for i in range(0, len(rest), 500):
                want = rest[i : i + 500]
                sel = select(*key_cols, table.c[returning])
                sel = sel.where(
                    tuple_(*key_cols).in_(want) if n > 1 else key_cols[0].in_([k[0] for k in want])
                )
                for got in session.execute(sel):
                    ids.setdefault(tuple(got[:n]), got[n])


def key_filter(model: Any, keys: Sequence[str], values: Sequence[tuple[Any, ...]]) -> Any:
    """A WHERE clause matching rows whose ``keys`` equal any tuple in ``values``."""
    table = _table(model)
    return or_(*[and_(*[table.c[k] == v for k, v in zip(keys, vals, strict=True)]) for vals in values])
