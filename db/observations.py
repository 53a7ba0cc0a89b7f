"""Metrics followed over time: which catalogued videos exist to re-observe, their re-observations, the gone.

``refresh_candidates`` reads, for every video not known to be gone, its create
time, its author's handle and when it was last observed on the platform.
``store_refresh`` writes a batch of re-observations — each one time-stamped and
kept even when the counts did not change, since "plays at 48 h" needs the 48 h
observation — and the videos noticed gone, in one transaction. ``purge_gone``
deletes what the Research API's terms require deleted: every row of a video that
is no longer public, and its media file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.records import ParsedItem, Provenance
from db.catalog import METRIC_FIELDS, metric_fingerprint, write_batch
from db.models import Author, CrawlItem, Edge, MetricObservation, Video
from db.upsert import insert_new


def refresh_candidates(engine: Engine) -> pd.DataFrame:
    """``video_id, handle, create_time, last_observed`` of every video with a create time and not gone."""
    v, a, o = Video.__table__, Author.__table__, MetricObservation.__table__
    last = (sa.select(o.c.video_id, sa.func.max(o.c.observed_at).label("last_observed"))
            .where(o.c.provenance == Provenance.OBSERVED.value).group_by(o.c.video_id).subquery())
    query = (sa.select(v.c.id.label("video_id"), a.c.handle, v.c.create_time, last.c.last_observed)
             .select_from(v.outerjoin(a, a.c.id == v.c.author_id).outerjoin(last, last.c.video_id == v.c.id))
             .where(v.c.gone_at.is_(None), v.c.create_time.is_not(None)).order_by(v.c.id))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["video_id", "handle", "create_time", "last_observed"])
    for column in ("create_time", "last_observed"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def store_refresh(engine: Engine, observed: Sequence[tuple[ParsedItem, datetime]], gone: Sequence[tuple[str, str, datetime]],
                  source: str) -> int:
    """Writes re-observations (``(item, observed_at)``) and gone videos (``(id, reason, noticed_at)``); returns observations added."""
    added = 0
    with engine.begin() as conn:
        if observed:
            # the video and author rows take the new payload; the counts go in below, each with its own time
            write_batch(conn, [dataclasses.replace(item, metrics=None) for item, _ in observed], source, observed[-1][1])
            rows = [_row(item, when, source) for item, when in observed if item.metrics and item.metrics.has_engagement()]
            added = insert_new(conn, MetricObservation.__table__, rows, key=["video_id", "provenance", "fingerprint"])
        if gone:
            t = Video.__table__
            for video_id, reason, when in gone:
                conn.execute(sa.update(t).where(t.c.id == video_id, t.c.gone_at.is_(None)).values(gone_at=when, gone_reason=reason))
    return added


def _row(item: ParsedItem, when: datetime, source: str) -> dict[str, Any]:
    values = [getattr(item.metrics, f) for f in METRIC_FIELDS]
    row = dict(zip(METRIC_FIELDS, values, strict=True))
    # the time is part of the digest: the same counts observed at another age are another observation
    row.update(video_id=item.video.id, observed_at=when, provenance=Provenance.OBSERVED.value, source=source,
               fingerprint=metric_fingerprint([*values, when.isoformat()]))
    return row


def gone_videos(engine: Engine) -> pd.DataFrame:
    """``video_id, gone_at, gone_reason, media_path`` of every video noticed gone."""
    t = Video.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.id, t.c.gone_at, t.c.gone_reason, t.c.media_path).where(t.c.gone_at.is_not(None))).all()
    return pd.DataFrame(rows, columns=["video_id", "gone_at", "gone_reason", "media_path"])


def purge_gone(engine: Engine, media_dir: Path | None = None) -> dict[str, int]:
    """Deletes every gone video with its observations, graph rows and media file; returns what went."""
    gone = gone_videos(engine)
    ids = gone["video_id"].tolist()
    counts = {"videos": len(ids), "observations": 0, "edges": 0, "media_files": 0}
    if not ids:
        return counts
    o, e, c, v = MetricObservation.__table__, Edge.__table__, CrawlItem.__table__, Video.__table__
    with engine.begin() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            counts["observations"] += conn.execute(sa.delete(o).where(o.c.video_id.in_(chunk))).rowcount
            counts["edges"] += conn.execute(sa.delete(e).where(e.c.parent_id.in_(chunk) | e.c.child_id.in_(chunk))).rowcount
            conn.execute(sa.delete(c).where(c.c.video_id.in_(chunk)))
            conn.execute(sa.delete(v).where(v.c.id.in_(chunk)))
    for path in gone["media_path"].dropna():
        file = Path(path) if Path(path).is_absolute() or media_dir is None else media_dir / path
        if file.is_file():
            file.unlink()
            counts["media_files"] += 1
    return counts


def load_trajectories(engine: Engine, cutoff: datetime | None = None) -> pd.DataFrame:
    """``video_id, observed_at, plays, likes`` of every observed (not simulated) observation as of ``cutoff``."""
    o = MetricObservation.__table__
    query = sa.select(o.c.video_id, o.c.observed_at, o.c.plays, o.c.likes).where(o.c.provenance == Provenance.OBSERVED.value)
    if cutoff is not None:
        query = query.where(o.c.observed_at <= cutoff)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(o.c.video_id, o.c.observed_at)).all()
    frame = pd.DataFrame(rows, columns=["video_id", "observed_at", "plays", "likes"])
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    return frame
