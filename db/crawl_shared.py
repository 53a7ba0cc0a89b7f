"""A crawl run worked by several workers on one Postgres catalog: each step committed under the run's row lock.

A shared step is one transaction: it locks the ``crawl_run`` row (``SELECT … FOR
UPDATE``), ends the worker's claim on the member it expanded (``db.claims``), admits
the related videos that are not members yet — at most up to ``max_videos``, with
the next ``seq`` numbers — writes their records, the edges and the expanded mark,
and adds the worker's counters to the run's. The lock makes admission one at a
time, so ``max_videos`` is never passed and ``seq`` stays 0, 1, 2 … whoever admits.
A worker whose claim was taken over (it outlived its lease) commits nothing: the
step is another worker's now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.errors import CurateError
from core.records import ParsedItem
from db.catalog import write_batch
from db.claims import CatalogClaims
from db.crawl_state import load_members
from db.models import CrawlItem, CrawlRun, Edge
from db.types import utcnow
from db.upsert import insert_new


class ClaimLost(CurateError):
    """The member a worker expanded was claimed by another worker meanwhile (the first one's lease ran out)."""


@dataclass(frozen=True)
class SharedStep:
    """One step of a shared run, as a worker hands it to the catalog."""

    #: the member expanded (None for a seeding step)
    expanded: str | None
    #: the related videos taken (or the feed's seeds), in order: the candidates for membership
    candidates: Sequence[ParsedItem]
    state: Mapping[str, Any]
    #: this worker's counters since its last commit, added to the run's
    stats_delta: Mapping[str, Any]


def claim_stage(run_id: int) -> str:
    """The ``work_claim`` stage of a run's expansions (key: the video id)."""
    return f"crawl:{run_id}"


def is_shared(engine: Engine) -> bool:
    """True when several workers can share a run on this catalog (Postgres: row locks)."""
    return engine.dialect.name == "postgresql"


def commit_shared_step(
    engine: Engine, run_id: int, step: SharedStep, *, max_videos: int, claims: CatalogClaims,
    from_seq: int, observed_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Stores one step under the run's lock; returns the run's members from ``from_seq`` on (ClaimLost: nothing stored)."""
    now = utcnow()
    with engine.begin() as conn:
        run = _lock(conn, run_id)
        if step.expanded is not None and claims.finish({step.expanded: None}, conn) != 1:
            raise ClaimLost(f"the expansion of {step.expanded} was taken over by another worker")
        depth = _admit(conn, run_id, step, max_videos, observed_at or now)
        if step.expanded is not None:
            _expand(conn, run_id, step.expanded, [i.video.id for i in step.candidates if i.video.id in depth], depth, now)
        _update(conn, run, state=dict(step.state), stats=add_counts(run["stats"] or {}, step.stats_delta))
    return load_members(engine, run_id, from_seq)


def _admit(conn: sa.Connection, run_id: int, step: SharedStep, max_videos: int, observed_at: datetime) -> dict[str, int]:
    """Admits the candidates not members yet, up to ``max_videos``; writes the members' records; returns their depths."""
    ids = [i.video.id for i in step.candidates]
    depth = _depths(conn, run_id, [*ids, *([step.expanded] if step.expanded else [])])
    child_depth = 0 if step.expanded is None else depth[step.expanded] + 1
    count = _count(conn, run_id)
    fresh = [v for v in dict.fromkeys(ids) if v not in depth][: max(0, max_videos - count)]
    admitted = [{"run_id": run_id, "video_id": v, "seq": count + n, "depth": child_depth, "parent_id": step.expanded} for n, v in enumerate(fresh)]
    depth.update((v, child_depth) for v in fresh)
    kept = [i for i in step.candidates if i.video.id in depth]
    if kept:
        # the records first: a member row refers to its video
        write_batch(conn, kept, f"crawl:{run_id}", observed_at)
    insert_new(conn, CrawlItem.__table__, admitted, key=["run_id", "video_id"])
    return depth


def open_members(engine: Engine, run_id: int, max_depth: int | None) -> set[str]:
    """The members of the run no worker has expanded yet, above ``max_depth``."""
    t = CrawlItem.__table__
    query = sa.select(t.c.video_id).where(t.c.run_id == run_id, t.c.expanded_at.is_(None))
    if max_depth is not None:
        query = query.where(t.c.depth < max_depth)
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def _lock(conn: sa.Connection, run_id: int) -> Mapping[str, Any]:
    t = CrawlRun.__table__
    return conn.execute(sa.select(t.c.id, t.c.status, t.c.stats).where(t.c.id == run_id).with_for_update()).mappings().one()


def _depths(conn: sa.Connection, run_id: int, ids: Sequence[str]) -> dict[str, int]:
    t = CrawlItem.__table__
    query = sa.select(t.c.video_id, t.c.depth).where(t.c.run_id == run_id, t.c.video_id.in_(list(set(ids))))
    return {v: int(d) for v, d in conn.execute(query)} if ids else {}


def _count(conn: sa.Connection, run_id: int) -> int:
    t = CrawlItem.__table__
    return int(conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.run_id == run_id)).scalar_one())


def _expand(conn: sa.Connection, run_id: int, parent: str, children: list[str], depth: dict[str, int], now: datetime) -> None:
    rows = [{"run_id": run_id, "parent_id": parent, "child_id": c, "depth": depth[c], "discovered_at": now} for c in dict.fromkeys(children)]
    insert_new(conn, Edge.__table__, rows, key=["run_id", "parent_id", "child_id"])
    t = CrawlItem.__table__
    conn.execute(sa.update(t).where(t.c.run_id == run_id, t.c.video_id == parent).values(expanded_at=now))


def _update(conn: sa.Connection, run: Mapping[str, Any], **values: Any) -> None:
    # a worker's step keeps the run running, unless another worker found a stopping rule met
    if run["status"] != "finished":
        values.update(status="running", stop_reason=None, finished_at=None)
    t = CrawlRun.__table__
    conn.execute(sa.update(t).where(t.c.id == run["id"]).values(**values))


def finish_shared(engine: Engine, run_id: int, status: str, stop_reason: str, stats_delta: Mapping[str, Any]) -> None:
    """Records a worker's end: its counters are added; ``finished`` (a stopping rule met) is never undone."""
    with engine.begin() as conn:
        run = _lock(conn, run_id)
        values: dict[str, Any] = {"stats": add_counts(run["stats"] or {}, stats_delta)}
        if run["status"] != "finished":
            values.update(status=status, stop_reason=stop_reason, finished_at=utcnow())
        conn.execute(sa.update(CrawlRun.__table__).where(CrawlRun.__table__.c.id == run_id).values(**values))


def add_counts(base: Mapping[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` plus ``delta``, number by number, into nested mappings (the run's counters)."""
    out = dict(base)
    for key, value in delta.items():
        if isinstance(value, Mapping):
            out[key] = add_counts(out.get(key) or {}, value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = round(out.get(key, 0) + value, 4) if isinstance(value, float) else out.get(key, 0) + value
    return out


def sub_counts(now: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """What ``now`` counts beyond ``before`` (the inverse of ``add_counts``)."""
    out: dict[str, Any] = {}
    for key, value in now.items():
        if isinstance(value, Mapping):
            out[key] = sub_counts(value, before.get(key) or {})
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = value - before.get(key, 0)
    return out
