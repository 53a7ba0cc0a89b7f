"""Download work in the catalog: claiming videos without double claims, and recording results.

A claim is one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING``. On Postgres
the inner select takes row locks with ``FOR UPDATE SKIP LOCKED``, so several
``curate download`` processes (or machines) each get their own videos and never
wait on each other. SQLite has no row locks, but it has one writer at a time, and
an UPDATE that opens its transaction takes the write lock before it reads: the
select and the update see the same rows and no other writer can come between.
A claim names its worker and time; a claim older than the lease is free again,
and so is, at once, a claim whose worker ran on this host and is gone
(:func:`db.claims.dead_claimants`: a ``kill -9``). A failure is recorded with its
time, so a run retries only failures from before it began, never the fresh ones of
a run beside it; a permanent reason (gone, private) is never replaced by a later
transient one (a time-out). Results are written with one executemany per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.media_root import resolve
from db.claims import LEASE, dead_claimants
from db.download_jobs import DownloadJob, DownloadOutcome
from db.models import CrawlItem, CrawlRun, Video
from db.types import utcnow

__all__ = ["LEASE", "MAX_ATTEMPTS", "claim", "pending_count", "record", "release", "check_media_files"]
#: reasons that a later try will not change (the video is gone or private); a transient reason never replaces one
PERMANENT_REASONS = ("bad_id", "no_url", "http_404", "http_410", "http_403", "private", "unavailable", "unsupported")
#: failed downloads are retried on later runs until they have failed this often (unless retry_failed)
MAX_ATTEMPTS = 3


def _eligible(table: sa.Table, since: datetime, retry_failed: bool, now: datetime, dead: list[str]) -> sa.ColumnElement[bool]:
    free = sa.or_(table.c.claimed_by.is_(None), table.c.claimed_at < now - LEASE, table.c.claimed_by.in_(dead))
    # a failure is retried by a run that began after it was recorded (claimed_at is then its time), within its attempts
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
    dead = _dead(engine)
    inner = sa.select(table.c.id).where(_eligible(table, since, retry_failed, now, dead)).order_by(table.c.id).limit(limit)
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


def _dead(engine: Engine) -> list[str]:
    """The download claimants of unfinished videos whose process is known to be gone."""
    table = Video.__table__
    query = sa.select(table.c.claimed_by).distinct().where(table.c.claimed_by.is_not(None), table.c.media_path.is_(None))
    with engine.connect() as conn:
        return dead_claimants(conn.execute(query).scalars())


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
    query = sa.select(sa.func.count()).select_from(table).where(_eligible(table, since, retry_failed, utcnow(), _dead(engine)))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def record(engine: Engine, outcomes: Sequence[DownloadOutcome], media_root: str | None = None) -> None:
    """Stores results in one transaction: files with their digests and media root, failures with their reasons."""
    table = Video.__table__
    now = utcnow()
    done = [
        {"b_id": o.video_id, "b_path": o.media_path, "b_sha": o.sha256, "b_size": o.size, "b_at": now}
        for o in outcomes if o.ok
    ]
    failed = [{"b_id": o.video_id, "b_error": o.error, "b_transient": not is_permanent(o.error)} for o in outcomes if not o.ok]
    key = table.c.id == sa.bindparam("b_id")
    with engine.begin() as conn:
        if done:
            values = {
                "media_path": sa.bindparam("b_path"), "media_sha256": sa.bindparam("b_sha"), "media_size": sa.bindparam("b_size"),
                "downloaded_at": sa.bindparam("b_at"), "download_error": None, "claimed_by": None, "media_root": media_root,
            }
            conn.execute(sa.update(table).where(key).values(**values), done)
        if failed:
            keep = sa.and_(sa.bindparam("b_transient", type_=sa.Boolean), _permanent(table.c.download_error))
            error = sa.case((keep, table.c.download_error), else_=sa.bindparam("b_error", type_=sa.String))
            conn.execute(sa.update(table).where(key).values(download_error=error, claimed_by=None, claimed_at=now), failed)


def is_permanent(reason: str | None) -> bool:
    """True for a reason a later try will not change (the video is gone, private, has no URL)."""
    return bool(reason) and reason.split(":", 1)[0] in PERMANENT_REASONS  # type: ignore[union-attr]


def _permanent(column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    return sa.or_(*(sa.or_(column == tag, column.like(f"{tag}:%")) for tag in PERMANENT_REASONS))


def release(engine: Engine, worker: str) -> int:
    """Frees the claims of ``worker`` it did not finish (an interrupted run); returns how many."""
    table = Video.__table__
    with engine.begin() as conn:
        done = conn.execute(sa.update(table).where(table.c.claimed_by == worker, table.c.media_path.is_(None)).values(claimed_by=None))
    return int(done.rowcount or 0)


def check_media_files(engine: Engine, root: Path, root_id: str) -> tuple[int, int]:
    """Squares the catalog with the media root this worker sees; returns (forgotten, elsewhere).

    A file recorded in this root (or in no known root: catalogs from before roots had
    ids) that is gone from it is forgotten, so that the video is downloaded again. A
    file recorded in another root is not this worker's to judge: it is counted as
    *elsewhere* (another machine's data folder, a shared root not mounted here) and
    left as it is.
    """
    table = Video.__table__
    with engine.connect() as conn:
        stored = conn.execute(sa.select(table.c.id, table.c.media_path, table.c.media_root).where(table.c.media_path.is_not(None))).all()
    missing = [(vid, where) for vid, path, where in stored if not resolve(root, path).is_file()]
    gone = [{"b_id": vid} for vid, where in missing if where in (None, root_id)]
    if gone:
        values = {"media_path": None, "media_sha256": None, "media_size": None, "downloaded_at": None, "media_root": None}
        with engine.begin() as conn:
            conn.execute(sa.update(table).where(table.c.id == sa.bindparam("b_id")).values(**values), gone)
    return len(gone), len(missing) - len(gone)
