"""Download work in the catalog: claiming videos without double claims, and recording results.

A claim is one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING``. On Postgres
the inner select takes row locks with ``FOR UPDATE SKIP LOCKED``, so several
``curate download`` processes (or machines) each get their own videos and never
wait on each other. SQLite has no row locks, but it has one writer at a time, and
an UPDATE that opens its transaction takes the write lock before it reads: the
select and the update see the same rows and no other writer can come between.
A claim names its worker and time; a claim older than the lease (a process that
died) is free again. Results are written with one executemany per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.download_jobs import DownloadJob, DownloadOutcome
from db.models import CrawlItem, CrawlRun, Video
from db.types import utcnow

#: a claim older than this belongs to a worker that died; its video may be claimed again
LEASE = timedelta(minutes=30)
#: failed downloads are retried on later runs until they have failed this often (unless retry_failed)
MAX_ATTEMPTS = 3


def _eligible(table: sa.Table, since: datetime, retry_failed: bool, now: datetime) -> sa.ColumnElement[bool]:
    free = sa.or_(table.c.claimed_by.is_(None), table.c.claimed_at < now - LEASE)
    # a failure is retried on a later run (claimed before this one began), within its attempts
    retry = table.c.claimed_at < since
    if not retry_failed:
        retry = sa.and_(retry, table.c.download_attempts < MAX_ATTEMPTS)
    return sa.and_(
        table.c.media_path.is_(None),
        sa.or_(table.c.media_url.is_not(None), table.c.url.is_not(None)),
        free,
        sa.or_(table.c.download_error.is_(None), retry),
    )


def claim(engine: Engine, worker: str, limit: int, since: datetime, retry_failed: bool = False) -> list[DownloadJob]:
    """Claims up to ``limit`` videos for ``worker``; ``since`` is when this download run began."""
    table = Video.__table__
    now = utcnow()
    inner = sa.select(table.c.id).where(_eligible(table, since, retry_failed, now)).order_by(table.c.id).limit(limit)
    if engine.dialect.name == "postgresql":
        inner = inner.with_for_update(skip_locked=True)
    stmt = (
        sa.update(table)
        .where(table.c.id.in_(inner.scalar_subquery()))
        .values(claimed_by=worker, claimed_at=now, download_attempts=table.c.download_attempts + 1)
        .returning(table.c.id, table.c.url, table.c.media_url)
    )
    with engine.begin() as conn:
        rows = conn.execute(stmt).all()
        sites = _crawl_sites(conn, [r.id for r in rows])
    return sorted((DownloadJob(r.id, r.url, r.media_url, sites.get(r.id)) for r in rows), key=lambda j: j.video_id)


def _crawl_sites(conn: sa.Connection, ids: list[str]) -> dict[str, str]:
    """The base URL of the newest crawl that found each video, where that crawl named one."""
    if not ids:
        return {}
    items, runs = CrawlItem.__table__, CrawlRun.__table__
    query = (
        sa.select(items.c.video_id, runs.c.base_url)
        .join(runs, runs.c.id == items.c.run_id)
        .where(items.c.video_id.in_(ids), runs.c.base_url.is_not(None))
        .order_by(items.c.run_id)
    )
    return {vid: base for vid, base in conn.execute(query)}


def pending_count(engine: Engine, since: datetime, retry_failed: bool = False) -> int:
    """How many videos a run starting at ``since`` would try to download now."""
    table = Video.__table__
    query = sa.select(sa.func.count()).select_from(table).where(_eligible(table, since, retry_failed, utcnow()))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def record(engine: Engine, outcomes: Sequence[DownloadOutcome]) -> None:
    """Stores results in one transaction: files with their digests, failures with their reasons."""
    table = Video.__table__
    now = utcnow()
    done = [
        {"b_id": o.video_id, "b_path": o.media_path, "b_sha": o.sha256, "b_size": o.size, "b_at": now}
        for o in outcomes if o.ok
    ]
    failed = [{"b_id": o.video_id, "b_error": o.error} for o in outcomes if not o.ok]
    key = table.c.id == sa.bindparam("b_id")
    with engine.begin() as conn:
        if done:
            values = {
                "media_path": sa.bindparam("b_path"), "media_sha256": sa.bindparam("b_sha"), "media_size": sa.bindparam("b_size"),
                "downloaded_at": sa.bindparam("b_at"), "download_error": None, "claimed_by": None,
            }
            conn.execute(sa.update(table).where(key).values(**values), done)
        if failed:
            conn.execute(sa.update(table).where(key).values(download_error=sa.bindparam("b_error"), claimed_by=None), failed)


def release(engine: Engine, worker: str) -> int:
    """Frees the claims of ``worker`` it did not finish (an interrupted run); returns how many."""
    table = Video.__table__
    with engine.begin() as conn:
        done = conn.execute(sa.update(table).where(table.c.claimed_by == worker, table.c.media_path.is_(None)).values(claimed_by=None))
    return int(done.rowcount or 0)


def forget_missing_files(engine: Engine, home: Path) -> int:
    """Clears media columns whose file is gone from disk, so the video is downloaded again."""
    table = Video.__table__
    with engine.connect() as conn:
        stored = conn.execute(sa.select(table.c.id, table.c.media_path).where(table.c.media_path.is_not(None))).all()
    gone = [{"b_id": vid} for vid, path in stored if not (home / path).is_file()]
    if gone:
        values = {"media_path": None, "media_sha256": None, "media_size": None, "downloaded_at": None}
        with engine.begin() as conn:
            conn.execute(sa.update(table).where(table.c.id == sa.bindparam("b_id")).values(**values), gone)
    return len(gone)
