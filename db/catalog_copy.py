"""Copying a whole catalog to another database (SQLite → Postgres as a project grows), resumably, with counts checked.

Tables are copied in foreign-key order, in batches read by primary key and written
with ``INSERT … ON CONFLICT DO NOTHING``, one transaction per batch: an interrupted
copy run again skips what arrived and adds the rest, and nothing is duplicated.
The pseudonymisation secret travels with it (``catalog_meta``), so snapshots built
from the copy give the same author keys. At the end every table's row count is
compared; a difference is an error, never a quiet success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import db.models  # noqa: F401 - registers the tables in SQLModel.metadata
from core.errors import CatalogError
from db.models import CatalogMeta
from db.upsert import insert_new

COPY_BATCH = 5000
SECRET_KEY = "pseudonym_secret"

Progress = Callable[[str, int], None]


@dataclass
class CopyReport:
    """Rows per table: in the source, newly written to the target, and in the target at the end."""

    source: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    target: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, dict[str, int]]:
        """The object ``curate catalog copy --json`` prints."""
        return {name: {"source": self.source[name], "written": self.written.get(name, 0), "target": self.target[name]}
                for name in self.source}


def tables() -> list[sa.Table]:
    """The catalog's tables, parents before children."""
    return list(SQLModel.metadata.sorted_tables)


def copy_catalog(
    source: Engine, target: Engine, batch_rows: int = COPY_BATCH, only: tuple[str, ...] | None = None,
    progress: Progress | None = None,
) -> CopyReport:
    """Copies every table (or those named in ``only``) from ``source`` to ``target`` (already at the newest schema)."""
    _check_secrets(source, target)
    report = CopyReport()
    for table in tables():
        if only is not None and table.name not in only:
            continue
        report.source[table.name] = _count(source, table)
        report.written[table.name] = _copy_table(source, target, table, batch_rows, progress)
        report.target[table.name] = _count(target, table)
    _reset_sequences(target)
    short = {n: (report.source[n], report.target[n]) for n in report.source if report.target[n] != report.source[n]}
    if short:
        details = ", ".join(f"{n}: {s:,} in the source, {t:,} in the target" for n, (s, t) in short.items())
        raise CatalogError(f"the copy is incomplete or the target held other rows ({details}); "
                           "run it again to resume, or copy into an empty database")
    return report


def _check_secrets(source: Engine, target: Engine) -> None:
    """A target with another pseudonymisation secret is another catalog: copying into it would mix two key spaces."""
    mine, theirs = _secret(source), _secret(target)
    if theirs is not None and mine is not None and theirs != mine:
        raise CatalogError("the target catalog has its own pseudonymisation secret, so it is another catalog; "
                           "copy into an empty database")


def _secret(engine: Engine) -> str | None:
    table = CatalogMeta.__table__
    with engine.connect() as conn:
        return conn.execute(sa.select(table.c.value).where(table.c.key == SECRET_KEY)).scalar_one_or_none()


def _count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _copy_table(source: Engine, target: Engine, table: sa.Table, batch_rows: int, progress: Progress | None) -> int:
    """Keyset-paged reads by primary key; each batch inserted (existing keys skipped) in its own transaction."""
    key = list(table.primary_key.columns)
    written, last = 0, None
    while True:
        query = sa.select(table).order_by(*key).limit(batch_rows)
        if last is not None:
            query = query.where(sa.tuple_(*key) > sa.tuple_(*last))
        with source.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        if not rows:
            return written
        with target.begin() as conn:
            written += insert_new(conn, table, rows, key=[c.name for c in key])
        last = [rows[-1][c.name] for c in key]
        if progress:
            progress(table.name, len(rows))


def _reset_sequences(engine: Engine) -> None:
    """Postgres: identity sequences continue after the copied ids, so that new rows do not collide with them."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in tables():
            if len(table.primary_key.columns) != 1:
                continue
            (column,) = table.primary_key.columns
            sequence = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar_one_or_none()
            if sequence:  # names come from the models, not from input
                conn.execute(sa.text(f"SELECT setval(:s, COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"),
                             {"s": sequence})


def describe_url(engine: Engine) -> dict[str, str | int | None]:
    """The catalog in use, for people: dialect, host, port, database — never a user's password."""
    url = engine.url
    return {"dialect": engine.dialect.name, "host": url.host, "port": url.port, "database": url.database,
            "user": url.username}
