"""A crawl's rows: the run (parameters, resumable state, counters), its members and its edges.

Crawl steps are committed by ``commit_steps`` in one transaction — the fetched
records (through ``db.catalog.write_batch``), the new members, the edges, the
expanded marks and the run's state after the last of them — so that a crash
leaves the run exactly at a step boundary, nothing half-written. All writes are
set-based.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.errors import CurateError
from core.records import ParsedItem
from db.catalog import write_batch
from db.models import CrawlItem, CrawlRun, Edge
from db.types import utcnow
from db.upsert import insert_new

#: a run in one of these states can be resumed
RESUMABLE = ("running", "blocked", "interrupted", "failed")


class RunNotFound(CurateError):
    """``--resume`` named a run the catalog does not have."""


@dataclass(frozen=True)
class RunRecord:
    """One ``crawl_run`` row."""

    id: int
    status: str
    stop_reason: str | None
    source: str | None
    base_url: str | None
    params: dict[str, Any]
    state: dict[str, Any]
    stats: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None


def owner() -> dict[str, Any]:
    """Who runs a crawl now: host and process id, to refuse resuming a run that is still going."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def create_run(engine: Engine, source: str, base_url: str | None, params: Mapping[str, Any], state: Mapping[str, Any]) -> int:
    """Inserts a new run with status ``running``; returns its id."""
    table = CrawlRun.__table__
    with engine.begin() as conn:
        values = {"source": source, "base_url": base_url, "params": dict(params), "state": dict(state), "stats": {}, "status": "running"}
        return int(conn.execute(sa.insert(table).values(started_at=utcnow(), **values).returning(table.c.id)).scalar_one())


def load_run(engine: Engine, run: int | str) -> RunRecord:
    """The run with this id, or the newest one for ``"latest"``; RunNotFound otherwise."""
    table = CrawlRun.__table__
    query = sa.select(table)
    if run == "latest":
        query = query.order_by(table.c.id.desc()).limit(1)
    else:
        query = query.where(table.c.id == int(run))
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        raise RunNotFound("the catalog has no crawl run yet" if run == "latest" else f"no crawl run {run} in the catalog")
    return RunRecord(
        id=row["id"], status=row["status"], stop_reason=row["stop_reason"], source=row["source"], base_url=row["base_url"],
        params=row["params"] or {}, state=row["state"] or {}, stats=row["stats"] or {},
        started_at=row["started_at"], finished_at=row["finished_at"],
    )


def load_members(engine: Engine, run_id: int, from_seq: int = 0) -> list[dict[str, Any]]:
    """The run's members in join order (those from ``from_seq`` on): video_id, seq, depth, parent_id, expanded."""
    t = CrawlItem.__table__
    query = sa.select(t.c.video_id, t.c.seq, t.c.depth, t.c.parent_id, t.c.expanded_at.is_not(None).label("expanded"))
    query = query.where(t.c.run_id == run_id, t.c.seq >= from_seq).order_by(t.c.seq)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def commit_steps(
    engine: Engine,
    run_id: int,
    *,
    items: Sequence[ParsedItem],
    members: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    expanded: Sequence[str],
    state: Mapping[str, Any],
    stats: Mapping[str, Any],
    observed_at: datetime | None = None,
) -> None:
    """Stores one or more consecutive crawl steps in one transaction, with the state after the last."""
    now = utcnow()
    with engine.begin() as conn:
        if items:
            write_batch(conn, items, f"crawl:{run_id}", observed_at or now)
        if members:
            insert_new(conn, CrawlItem.__table__, [{"run_id": run_id, **m} for m in members], key=["run_id", "video_id"])
        if edges:
            rows = [{"run_id": run_id, "discovered_at": now, **e} for e in edges]
            insert_new(conn, Edge.__table__, rows, key=["run_id", "parent_id", "child_id"])
        if expanded:
            t = CrawlItem.__table__
            conn.execute(sa.update(t).where(t.c.run_id == run_id, t.c.video_id.in_(list(expanded))).values(expanded_at=now))
        _update_run(conn, run_id, state=dict(state), stats=dict(stats))


def _update_run(conn: sa.Connection, run_id: int, **values: Any) -> None:
    table = CrawlRun.__table__
    conn.execute(sa.update(table).where(table.c.id == run_id).values(**values))


def mark_running(engine: Engine, run_id: int, state: Mapping[str, Any]) -> None:
    """Marks a resumed run as running again under this process."""
    with engine.begin() as conn:
        _update_run(conn, run_id, status="running", stop_reason=None, finished_at=None, state=dict(state))


def finish_run(engine: Engine, run_id: int, status: str, stop_reason: str, stats: Mapping[str, Any]) -> None:
    """Records how a session of the run ended."""
    with engine.begin() as conn:
        _update_run(conn, run_id, status=status, stop_reason=stop_reason, stats=dict(stats), finished_at=utcnow())


def run_summary(engine: Engine, run_id: int) -> dict[str, Any]:
    """Videos, edges, expanded members and the depth histogram of a run, counted in SQL."""
    items, edges = CrawlItem.__table__, Edge.__table__
    with engine.connect() as conn:
        depths = conn.execute(
            sa.select(items.c.depth, sa.func.count()).where(items.c.run_id == run_id).group_by(items.c.depth).order_by(items.c.depth)
        ).all()
        n_edges = conn.execute(sa.select(sa.func.count()).select_from(edges).where(edges.c.run_id == run_id)).scalar_one()
        n_expanded = conn.execute(
            sa.select(sa.func.count()).select_from(items).where(items.c.run_id == run_id, items.c.expanded_at.is_not(None))
        ).scalar_one()
    return {
        "videos": sum(n for _, n in depths),
        "edges": int(n_edges),
        "expanded": int(n_expanded),
        "depths": {int(d): int(n) for d, n in depths},
    }


@dataclass(frozen=True)
class RunGraph:
    """A run's members and its (parent, child) edges, for comparing two runs."""

    videos: frozenset[str]
    edges: frozenset[tuple[str, str]]


def run_graph(engine: Engine, run_id: int) -> RunGraph:
    """The run's video ids and (parent, child) edges."""
    items, edges = CrawlItem.__table__, Edge.__table__
    with engine.connect() as conn:
        videos = frozenset(conn.execute(sa.select(items.c.video_id).where(items.c.run_id == run_id)).scalars())
        pairs = frozenset((p, c) for p, c in conn.execute(sa.select(edges.c.parent_id, edges.c.child_id).where(edges.c.run_id == run_id)))
    return RunGraph(videos, pairs)
