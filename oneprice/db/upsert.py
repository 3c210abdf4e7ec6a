"""Bulk, idempotent upserts on natural keys for SQLite and PostgreSQL.

Rows whose values are unchanged are not touched, so re-running an ingest reports zero updates and
leaves every row as it was. Counts distinguish inserted from updated rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


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
    for r in rows:
        uniq[tuple(r[k] for k in keys)] = r
    items = list(uniq.items())
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
        for rec in session.execute(stmt, [r for _, r in part]):
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


def key_filter(model: Any, keys: Sequence[str], values: Sequence[tuple[Any, ...]]) -> Any:
    """A WHERE clause matching rows whose ``keys`` equal any tuple in ``values``."""
    table = _table(model)
    return or_(*[and_(*[table.c[k] == v for k, v in zip(keys, vals, strict=True)]) for vals in values])
