"""Opening the catalog: a SQLite file in WAL mode by default, Postgres by URL."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from core.errors import CatalogError

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
)


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite catalog file."""
    return f"sqlite:///{Path(path).resolve()}"


def _json_dumps(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# a \u0000 escape preceded by an even number of backslashes (an odd number escapes the backslash itself)
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _json_dumps_postgres(value: object) -> str:
    """JSON for JSONB, which refuses the NUL character: NULs in strings are dropped."""
    text = _json_dumps(value)
    return _NUL_ESCAPE.sub(r"\1", text) if "\\u0000" in text else text


def _on_sqlite_connect(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cur.execute(pragma)
    cur.close()


def begin_now(conn: sa.Connection) -> None:
    """Opens the transaction at once on SQLite, taking the write lock (the busy timeout applies).

    Python's sqlite3 defers ``BEGIN`` to the first INSERT, UPDATE or DELETE, so that schema changes made
    before one (``CREATE``, ``DROP INDEX``) would each commit on their own and a failure could not roll
    them back. Postgres's transactions already hold DDL; there it does nothing."""
    if conn.dialect.name == "sqlite" and not conn.connection.driver_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_catalog_engine(url: str) -> Engine:
    """An engine for ``url`` with the catalog's settings; the SQLite file's folder is created.

    Raises CatalogError for a URL that is not a database URL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CatalogError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(
            parsed, json_serializer=_json_dumps_postgres, json_deserializer=orjson.loads, pool_pre_ping=True
        )
    raise CatalogError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://")


def _sqlite_engine(url: sa.URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        connect_args={"check_same_thread": False, "timeout": 30},
    )
    sa.event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def check_connection(engine: Engine) -> None:
    """Connects once, turning a refused or missing server into a CatalogError."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise CatalogError(f"cannot open the catalog at {engine.url.render_as_string(hide_password=True)}: {first}") from exc
