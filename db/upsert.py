"""Set-based bulk writes: ``INSERT … ON CONFLICT`` on both dialects, batched.

One statement per batch, run as an executemany by the driver; never a
``session.add()`` per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

BATCH_ROWS = 2000
#: bookkeeping columns: never compared; first_seen_at is never updated
NOT_COMPARED = frozenset({"updated_at", "first_seen_at"})


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of at most ``size`` items."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def dialect_insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT construct, which knows ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for dialect {conn.dialect.name}")


def _changed(table: sa.Table, excluded: Any, columns: Sequence[str]) -> sa.ColumnElement[bool]:
    # a column counts as changed only when the new value is known and differs
    return sa.or_(
        *(sa.and_(excluded[c].is_not(None), table.c[c].is_distinct_from(excluded[c])) for c in columns)
    )


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    compare: Sequence[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> int:
    """Inserts ``rows``; on a key conflict updates the columns in ``compare`` that the new row knows.

    A NULL in a new row never erases a stored value, and a row whose known values
    are all unchanged is not touched, so writing the same rows twice changes
    nothing. ``overrides`` replaces the SET expression of some columns (they are
    built against ``stmt.excluded`` by the caller through :func:`excluded_of`).
    Returns the number of rows inserted or changed. All rows must share keys.
    """
    if not rows:
        return 0
    stmt = dialect_insert(conn, table)
    columns = list(rows[0].keys())
    compare = [c for c in (compare if compare is not None else columns) if c not in key and c not in NOT_COMPARED]
    set_ = {c: sa.func.coalesce(stmt.excluded[c], table.c[c]) for c in compare}
    set_.update(_touch_columns(table, columns, compare, stmt))
    set_.update(overrides or {})
    if set_:
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=set_, where=_changed(table, stmt.excluded, compare))
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    return _execute_counting(conn, stmt, table, key, rows, batch_rows)


def _execute_counting(
    conn: Connection, stmt: Any, table: sa.Table, key: Sequence[str], rows: Sequence[Mapping[str, Any]], batch_rows: int
) -> int:
    # RETURNING counts exactly on both dialects (psycopg's executemany rowcount is -1);
    # SQLAlchemy sends it as multi-row VALUES batches ("insertmanyvalues")
    stmt = stmt.returning(table.c[key[0]])
    return sum(len(conn.execute(stmt, list(chunk)).all()) for chunk in batched(rows, batch_rows))


def _touch_columns(table: sa.Table, columns: Sequence[str], compare: Sequence[str], stmt: Any) -> dict[str, Any]:
    # updated_at follows a real change; it is not compared itself
    if "updated_at" in columns:
        return {"updated_at": stmt.excluded["updated_at"]}
    return {}


def insert_new(
    conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str], batch_rows: int = BATCH_ROWS
) -> int:
    """Inserts the rows whose key is not stored yet; returns how many were inserted."""
    if not rows:
        return 0
    stmt = dialect_insert(conn, table).on_conflict_do_nothing(index_elements=list(key))
    return _execute_counting(conn, stmt, table, key, rows, batch_rows)


def excluded_of(conn: Connection, table: sa.Table) -> Any:
    """The ``excluded`` pseudo-table for building ``overrides``."""
    return dialect_insert(conn, table).excluded
