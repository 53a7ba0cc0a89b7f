"""Set-based bulk writes: ``INSERT … ON CONFLICT`` on both dialects, batched.

One statement per batch, run as an executemany by the driver; never a
``session.add()`` per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice, repeat
from operator import itemgetter
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
    stmt = _upsert_statement(conn, table, list(rows[0].keys()), key, compare, overrides)
    return _execute_counting(conn, stmt, table, key, rows, batch_rows)


def _upsert_statement(
    conn: Connection, table: sa.Table, columns: list[str], key: Sequence[str], compare: Sequence[str] | None,
    overrides: Mapping[str, Any] | None,
) -> Any:
    stmt = dialect_insert(conn, table)
    compare = [c for c in (compare if compare is not None else columns) if c not in key and c not in NOT_COMPARED]
    set_ = {c: sa.func.coalesce(stmt.excluded[c], table.c[c]) for c in compare}
    set_.update(_touch_columns(table, columns, compare, stmt))
    set_.update(overrides or {})
    if set_:
        return stmt.on_conflict_do_update(index_elements=list(key), set_=set_, where=_changed(table, stmt.excluded, compare))
    return stmt.on_conflict_do_nothing(index_elements=list(key))


def upsert_columns(
    conn: Connection, table: sa.Table, columns: Mapping[str, Sequence[Any]], key: Sequence[str],
    same: Mapping[str, Any] | None = None, overrides: Mapping[str, Any] | None = None, bound: frozenset[str] = frozenset(),
) -> int:
    """:func:`upsert` of rows given column by column; ``same`` holds the columns whose value every row shares.

    The statement and its counting are :func:`upsert`'s; on SQLite the rows are
    bound column by column (each column's distinct values processed once), and
    the columns named in ``bound`` hold values already as SQLite binds them (JSON
    as text); those are for SQLite only.
    """
    same = dict(same or {})
    stmt = _upsert_statement(conn, table, [*columns, *same], key, None, overrides)
    return _execute_columns(conn, stmt, table, key, columns, same, bound)


def insert_new_columns(
    conn: Connection, table: sa.Table, columns: Mapping[str, Sequence[Any]], key: Sequence[str], same: Mapping[str, Any] | None = None,
    bound: frozenset[str] = frozenset(),
) -> int:
    """:func:`insert_new` of rows given column by column (``same``, ``bound``: as for :func:`upsert_columns`)."""
    stmt = dialect_insert(conn, table).on_conflict_do_nothing(index_elements=list(key))
    return _execute_columns(conn, stmt, table, key, columns, dict(same or {}), bound)


def _execute_columns(
    conn: Connection, stmt: Any, table: sa.Table, key: Sequence[str], columns: Mapping[str, Sequence[Any]], same: dict[str, Any],
    bound: frozenset[str] = frozenset(),
) -> int:
    n = len(next(iter(columns.values()), ()))
    if n == 0:
        return 0
    if conn.dialect.name == "sqlite":
        plan = _SqliteBinding.plan(conn, stmt, table, [*columns, *same])
        if plan is not None:
            return plan.execute_columns(conn, columns, same, bound)
    if bound:
        raise ValueError(f"columns given as SQLite binds them ({', '.join(sorted(bound))}) on {conn.dialect.name}")
    names = [*columns, *same]
    rows = [dict(zip(names, (*values, *same.values()), strict=True)) for values in zip(*columns.values(), strict=True)]
    return _execute_counting(conn, stmt, table, key, rows, BATCH_ROWS)


def _execute_counting(
    conn: Connection, stmt: Any, table: sa.Table, key: Sequence[str], rows: Sequence[Mapping[str, Any]], batch_rows: int
) -> int:
    if conn.dialect.name == "sqlite":
        plan = _SqliteBinding.plan(conn, stmt, table, list(rows[0].keys()))
        if plan is not None:
            return sum(plan.execute(conn, chunk) for chunk in batched(rows, batch_rows))
    # RETURNING counts exactly on both dialects (psycopg's executemany rowcount is -1);
    # SQLAlchemy sends it as multi-row VALUES batches ("insertmanyvalues")
    stmt = stmt.returning(table.c[key[0]])
    return sum(len(conn.execute(stmt, list(chunk)).all()) for chunk in batched(rows, batch_rows))


class _SqliteBinding:
    """One compiled upsert and how to turn a row into its positional parameters, for ``executemany``.

    SQLite's own count of changed rows is exact for an upsert (a conflict left
    alone is not counted), so no RETURNING is needed there; and binding the rows
    here, with the columns' own bind processors, skips SQLAlchemy's per-row
    parameter machinery, which cost more than SQLite's work for wide rows.
    """

    def __init__(self, sql: str, names: list[str], constants: dict[int, Any], processors: list[tuple[int, Any]]) -> None:
        self.sql, self.processors, self.names = sql, processors, names
        self.constant_at = constants
        #: (position, bound value) of the parameters that are the same for every row, in position order
        self.constants = sorted(constants.items())
        from_rows = [name for i, name in enumerate(names) if i not in constants]
        self.get = itemgetter(*from_rows) if len(from_rows) > 1 else (lambda row: (row[from_rows[0]],))

    @classmethod
    def plan(cls, conn: Connection, stmt: Any, table: sa.Table, columns: list[str]) -> _SqliteBinding | None:
        """The binding for rows with ``columns``; None when a column default needs computing per row."""
        dialect = conn.dialect
        compiled = stmt.compile(dialect=dialect, column_keys=columns)
        names = list(compiled.positiontup or ())
        constants: dict[int, Any] = {}
        processors = []
        for i, name in enumerate(names):
            process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if name in columns:
                if process is not None:
                    processors.append((i, process))
                continue
            value = compiled.params.get(name)
            default = table.c[name].default if name in table.c else None
            if default is not None:
                if not default.is_scalar:
                    return None
                value = default.arg
            constants[i] = process(value) if process is not None else value
        return cls(compiled.string, names, constants, processors)

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Runs the statement for every row; returns how many rows it inserted or changed."""
        # a batch shares many values (its timestamps above all): process each distinct one once
        memo: list[dict[Any, Any]] = [{} for _ in self.processors]
        params = [self._bind(row, memo) for row in rows]
        return conn.exec_driver_sql(self.sql, params).rowcount

    def execute_columns(
        self, conn: Connection, columns: Mapping[str, Sequence[Any]], same: Mapping[str, Any], bound: frozenset[str] = frozenset()
    ) -> int:
        """Runs the statement for rows given column by column (those in ``bound`` left as given); returns how many
        rows it inserted or changed."""
        processors = {i: p for i, p in self.processors if self.names[i] not in bound}
        ordered: list[Any] = []
        for i, name in enumerate(self.names):
            if i in self.constant_at:
                ordered.append(repeat(self.constant_at[i]))
            elif name in same:
                process = processors.get(i)
                ordered.append(repeat(process(same[name]) if process is not None else same[name]))
            else:
                ordered.append(_processed(columns[name], processors.get(i)))
        return conn.exec_driver_sql(self.sql, list(zip(*ordered))).rowcount

    def _bind(self, row: Mapping[str, Any], memo: list[dict[Any, Any]]) -> tuple[Any, ...]:
        values = list(self.get(row))
        for i, value in self.constants:
            values.insert(i, value)
        for (i, process), seen in zip(self.processors, memo, strict=True):
            value = values[i]
            if value.__hash__ is None:
                values[i] = process(value)
            elif value in seen:
                values[i] = seen[value]
            else:
                values[i] = seen[value] = process(value)
        return tuple(values)


def _processed(values: Sequence[Any], process: Any) -> Sequence[Any]:
    """A column's values as bound: each distinct hashable value processed once."""
    if process is None:
        return values
    try:
        done = {v: process(v) for v in dict.fromkeys(values)}
    except TypeError:  # unhashable values (JSON lists and objects)
        return [process(v) for v in values]
    return list(map(done.__getitem__, values))


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
