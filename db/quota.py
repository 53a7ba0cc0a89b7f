"""An API's daily quota as spent so far, and Research API query pages committed with it.

``api_quota`` holds, per API and UTC day, the requests and records spent and
whether the API already said "enough" (429). A query page is stored by
:func:`commit_query_page` in one transaction with the quota it spent and the
run's state, so that a run killed anywhere resumes knowing both what it has and
what it may still ask for today.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.records import AuthorRecord, ParsedItem
from db.catalog import write_batch
from db.models import ApiQuota, Author, CrawlItem, CrawlRun, Video
from db.types import utcnow
from db.upsert import dialect_insert, insert_new


@dataclass(frozen=True)
class QuotaSpent:
    """What one API spent on one UTC day."""

    requests: int = 0
    records: int = 0
    exhausted: bool = False


@dataclass(frozen=True)
class QuotaDelta:
    """Requests and records spent since the last commit, on ``day`` (YYYYMMDD); ``exhausted`` after a 429."""

    api: str
    day: str
    requests: int = 0
    records: int = 0
    exhausted: bool = False


def quota_spent(engine: Engine, api: str, day: str) -> QuotaSpent:
    """The ledger's row for ``api`` on ``day`` (nothing spent when there is none)."""
    t = ApiQuota.__table__
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.c.requests, t.c.records, t.c.exhausted).where(t.c.api == api, t.c.day == day)).first()
    return QuotaSpent(int(row[0]), int(row[1]), bool(row[2])) if row else QuotaSpent()


def add_quota(conn: Connection, delta: QuotaDelta) -> None:
    """Adds ``delta`` to the day's row (created on first use), on an open transaction."""
    if not (delta.requests or delta.records or delta.exhausted):
        return
    t = ApiQuota.__table__
    stmt = dialect_insert(conn, t).values(api=delta.api, day=delta.day, requests=delta.requests, records=delta.records,
                                          exhausted=delta.exhausted, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(index_elements=["api", "day"], set_={
        "requests": t.c.requests + stmt.excluded.requests,
        "records": t.c.records + stmt.excluded.records,
        "exhausted": sa.or_(t.c.exhausted, stmt.excluded.exhausted),
        "updated_at": stmt.excluded.updated_at,
    })
    conn.execute(stmt)


def commit_query_page(
    engine: Engine,
    run_id: int,
    *,
    items: Sequence[ParsedItem],
    members: Sequence[Mapping[str, Any]],
    state: Mapping[str, Any],
    stats: Mapping[str, Any],
    quota: QuotaDelta | None,
) -> None:
    """Stores a page's records and new members, the quota it spent and the run's state, all or nothing."""
    now = utcnow()
    with engine.begin() as conn:
        if items:
            write_batch(conn, items, f"query:{run_id}", now)
        if members:
            insert_new(conn, CrawlItem.__table__, [{"run_id": run_id, **m} for m in members], key=["run_id", "video_id"])
        if quota is not None:
            add_quota(conn, quota)
        t = CrawlRun.__table__
        conn.execute(sa.update(t).where(t.c.id == run_id).values(state=dict(state), stats=dict(stats)))


def commit_authors(engine: Engine, records: Sequence[AuthorRecord], quota: QuotaDelta | None) -> None:
    """Upserts accounts (their counts observed) with the quota spent asking for them, all or nothing."""
    from db.catalog import _merge_authors, _upsert_authors

    with engine.begin() as conn:
        merged = list(_merge_authors(records).values())
        if merged:
            _upsert_authors(conn, merged, utcnow())
        if quota is not None:
            add_quota(conn, quota)


def run_authors_without_counts(engine: Engine, run_id: int) -> list[str]:
    """Handles of the accounts behind a run's videos whose follower count is not known yet, in handle order."""
    items, videos, authors = CrawlItem.__table__, Video.__table__, Author.__table__
    query = (sa.select(authors.c.handle).distinct()
             .select_from(items.join(videos, videos.c.id == items.c.video_id).join(authors, authors.c.id == videos.c.author_id))
             .where(items.c.run_id == run_id, authors.c.followers.is_(None), authors.c.handle.is_not(None))
             .order_by(authors.c.handle))
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())
