"""Work claimed once, for every stage: which worker has which unit, leases, dead claimants, retries.

A claim is a ``work_claim`` row keyed by (stage, key) — ``probe`` + video id and
sha256, ``extract:NAME:CACHEKEY`` + input key. New units are claimed by one
``INSERT … ON CONFLICT DO NOTHING RETURNING``: the primary key lets exactly one
worker insert a row, whatever the dialect. Units already known are claimed again
by an ``UPDATE … WHERE key IN (SELECT … FOR UPDATE SKIP LOCKED)`` (Postgres; SQLite
has one writer at a time) when their claim was abandoned — the lease expired, or
the claimant ran on this host and its process is gone — or when they failed before
this run began (a run never retries the fresh failure of a run beside it).

Worker names are ``host:pid:tag`` (:func:`worker_name`); :func:`dead_claimants`
is the one place that decides that a claimant is gone, for these claims and the
download claims of ``db.downloads`` alike.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.models import WorkClaim
from db.types import utcnow
from db.upsert import batched, dialect_insert

#: a claim older than this belongs to a worker that died somewhere; its unit may be claimed again
LEASE = timedelta(minutes=30)
#: a failed unit is retried by later runs until it has been tried this often
MAX_ATTEMPTS = 3
_CHUNK = 500


def worker_name() -> str:
    """A name for this process's claims: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead(claimant: str) -> bool:
    """True when ``claimant`` ran on this host and its process is gone (elsewhere only its lease tells)."""
    host, _, rest = claimant.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def dead_claimants(claimants: Iterable[str | None]) -> list[str]:
    """The claimants among ``claimants`` known to be dead (same host, process gone)."""
    return sorted({c for c in claimants if c and is_dead(c)})


@dataclass
class CatalogClaims:
    """Claims of one stage for one worker and one run (``since`` = when the run began)."""

    engine: Engine
    stage: str
    worker: str
    since: datetime
    max_attempts: int = MAX_ATTEMPTS

    def claim(self, keys: Sequence[str]) -> list[str]:
        """Claims those of ``keys`` that no live worker holds and that are not done; returns them."""
        table = WorkClaim.__table__
        got: list[str] = []
        now = utcnow()
        with self.engine.connect() as conn:
            # read apart from the write below: on SQLite a transaction that writes first takes the lock at once
            dead = dead_claimants(self._claimants(conn))
        with self.engine.begin() as conn:
            for chunk in batched(list(dict.fromkeys(keys)), _CHUNK):
                got += self._insert_new(conn, table, chunk, now)
                got += self._take_over(conn, table, chunk, dead, now)
        return got

    def _claimants(self, conn: sa.Connection) -> list[str]:
        table = WorkClaim.__table__
        query = sa.select(table.c.claimed_by).distinct().where(table.c.stage == self.stage, table.c.claimed_by.is_not(None))
        return list(conn.execute(query).scalars())

    def _insert_new(self, conn: sa.Connection, table: sa.Table, keys: list[str], now: datetime) -> list[str]:
        rows = [{"stage": self.stage, "key": k, "claimed_by": self.worker, "claimed_at": now, "attempts": 1} for k in keys]
        stmt = dialect_insert(conn, table).values(rows).on_conflict_do_nothing(index_elements=["stage", "key"])
        return list(conn.execute(stmt.returning(table.c.key)).scalars())

    def _take_over(self, conn: sa.Connection, table: sa.Table, keys: list[str], dead: list[str], now: datetime) -> list[str]:
        abandoned = sa.and_(
            table.c.finished_at.is_(None),
            sa.or_(table.c.claimed_by.is_(None), table.c.claimed_at < now - LEASE, table.c.claimed_by.in_(dead)),
        )
        retry = sa.and_(table.c.error.is_not(None), table.c.finished_at < self.since, table.c.attempts < self.max_attempts)
        inner = sa.select(table.c.key).where(table.c.stage == self.stage, table.c.key.in_(keys), sa.or_(abandoned, retry))
        if conn.dialect.name == "postgresql":
            inner = inner.with_for_update(skip_locked=True)
        stmt = (
            sa.update(table)
            .where(table.c.stage == self.stage, table.c.key.in_(inner.scalar_subquery()))
            .values(claimed_by=self.worker, claimed_at=now, finished_at=None, attempts=table.c.attempts + 1)
            .returning(table.c.key)
        )
        return list(conn.execute(stmt).scalars())

    def finish(self, results: Mapping[str, str | None], conn: sa.Connection | None = None) -> int:
        """Records claimed units as done (``None``) or failed (the reason), and lets go of them.

        Inside ``conn`` (a transaction that stores the units' results with their end); returns how
        many of the claims were still this worker's — fewer means another worker took one over."""
        if not results:
            return 0
        table = WorkClaim.__table__
        now = utcnow()
        params = [{"b_key": k, "b_error": e} for k, e in results.items()]
        stmt = (
            sa.update(table)
            .where(table.c.stage == self.stage, table.c.key == sa.bindparam("b_key"), table.c.claimed_by == self.worker)
            .values(error=sa.bindparam("b_error", type_=sa.String), finished_at=now, claimed_by=None)
        )
        if conn is not None:
            return int(conn.execute(stmt, params).rowcount or 0)
        with self.engine.begin() as own:
            return int(own.execute(stmt, params).rowcount or 0)

    def forget_done(self, keys: Sequence[str]) -> int:
        """Forgets that ``keys`` were done (their results are not where this worker looks: a deleted cache)."""
        table = WorkClaim.__table__
        removed = 0
        with self.engine.begin() as conn:
            for chunk in batched(list(keys), _CHUNK):
                stmt = sa.delete(table).where(
                    table.c.stage == self.stage, table.c.key.in_(chunk), table.c.finished_at.is_not(None), table.c.error.is_(None)
                )
                removed += int(conn.execute(stmt).rowcount or 0)
        return removed

    def release(self) -> int:
        """Lets go of this worker's unfinished claims (an interrupted run); returns how many."""
        table = WorkClaim.__table__
        stmt = sa.update(table).where(table.c.stage == self.stage, table.c.claimed_by == self.worker).values(claimed_by=None)
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).rowcount or 0)

    def release_dead(self) -> int:
        """Lets go of the stage's unfinished claims whose process is known to be dead (on this host): the
        units a killed worker held when the work ended before anyone took them over; returns how many."""
        table = WorkClaim.__table__
        with self.engine.begin() as conn:
            dead = dead_claimants(self._claimants(conn))
            if not dead:
                return 0
            stmt = sa.update(table).where(table.c.stage == self.stage, table.c.finished_at.is_(None),
                                          table.c.claimed_by.in_(dead)).values(claimed_by=None)
            return int(conn.execute(stmt).rowcount or 0)

    def errors(self, keys: Sequence[str]) -> dict[str, str]:
        """The recorded failure of each of ``keys`` that failed (in any run, by any worker)."""
        table = WorkClaim.__table__
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in batched(list(keys), _CHUNK):
                query = sa.select(table.c.key, table.c.error).where(
                    table.c.stage == self.stage, table.c.key.in_(chunk), table.c.error.is_not(None)
                )
                out.update(dict(conn.execute(query).all()))
        return out

    def held_elsewhere(self, keys: Sequence[str] | None = None) -> set[str]:
        """Those of ``keys`` (all of the stage's when None) another worker holds now (unfinished, not abandoned)."""
        table = WorkClaim.__table__
        now = utcnow()
        out: set[str] = set()
        with self.engine.connect() as conn:
            dead = dead_claimants(self._claimants(conn))
            held = sa.and_(
                table.c.stage == self.stage, table.c.finished_at.is_(None),
                table.c.claimed_by.is_not(None), table.c.claimed_by != self.worker,
                table.c.claimed_at >= now - LEASE, table.c.claimed_by.not_in(dead),
            )
            if keys is None:
                return set(conn.execute(sa.select(table.c.key).where(held)).scalars())
            for chunk in batched(list(keys), _CHUNK):
                out.update(conn.execute(sa.select(table.c.key).where(held, table.c.key.in_(chunk))).scalars())
        return out
