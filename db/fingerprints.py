"""Catalog reads and writes for near-duplicates: which files need a fingerprint, the fingerprints, the facts to group by."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.models import MediaFingerprint, MetricObservation, Video
from db.types import utcnow
from db.upsert import BATCH_ROWS, batched, upsert


def pending_fingerprints(engine: Engine, method: str) -> list[tuple[str, str]]:
    """``(media_sha256, media_path)`` of each distinct catalogued file without a ``method`` fingerprint."""
    v, f = Video.__table__, MediaFingerprint.__table__
    done = sa.exists().where(f.c.media_sha256 == v.c.media_sha256, f.c.method == method)
    query = (
        sa.select(v.c.media_sha256, sa.func.min(v.c.media_path))
        .where(v.c.media_sha256.is_not(None), v.c.media_path.is_not(None), ~done)
        .group_by(v.c.media_sha256)
        .order_by(v.c.media_sha256)
    )
    with engine.connect() as conn:
        return [(sha, path) for sha, path in conn.execute(query)]


def store_fingerprints(engine: Engine, rows: Iterable[Mapping[str, Any]], method: str) -> int:
    """Upserts ``{media_sha256, frame_hashes, error}`` rows under ``method``; returns rows written."""
    table = MediaFingerprint.__table__
    written = 0
    for chunk in batched(rows, BATCH_ROWS):
        now = utcnow()
        values = [{"media_sha256": r["media_sha256"], "method": method, "frame_hashes": r.get("frame_hashes"),
                   "error": r.get("error"), "computed_at": now} for r in chunk]
        with engine.begin() as conn:
            upsert(conn, table, values, key=["media_sha256"])
        written += len(values)
    return written


def load_duplicate_frame(engine: Engine, method: str) -> pd.DataFrame:
    """One row per video: ``video_id, media_sha256, media_path, music_id, music_title, music_original, duration_s, create_time,
    plays, verdict, frame_hashes`` (hashes: a list, or None where no ``method`` fingerprint exists)."""
    v, f, o = Video.__table__, MediaFingerprint.__table__, MetricObservation.__table__
    plays = sa.select(sa.func.max(o.c.plays)).where(o.c.video_id == v.c.id).scalar_subquery()
    query = sa.select(
        v.c.id.label("video_id"), v.c.media_sha256, v.c.media_path, v.c.music_id, v.c.music_title, v.c.music_original, v.c.duration_s,
        v.c.create_time, plays.label("plays"), v.c.verdict, f.c.frame_hashes,
    ).select_from(v.outerjoin(f, sa.and_(f.c.media_sha256 == v.c.media_sha256, f.c.method == method))).order_by(v.c.id)
    with engine.connect() as conn:
        result = conn.execute(query)
        frame = pd.DataFrame.from_records(result.cursor.fetchall(), columns=list(result.keys()))
    frame["frame_hashes"] = frame["frame_hashes"].astype(object).map(lambda h: orjson.loads(h) if isinstance(h, str | bytes) else h)
    frame["create_time"] = pd.to_datetime(frame["create_time"], utc=True, format="ISO8601")
    frame["plays"] = pd.to_numeric(frame["plays"], errors="coerce")
    frame["music_original"] = frame["music_original"].astype("boolean")
    return frame


def fingerprint_counts(engine: Engine, method: str) -> dict[str, int]:
    """How many files have a ``method`` fingerprint, and how many could not be read."""
    f = MediaFingerprint.__table__
    with engine.connect() as conn:
        row = conn.execute(sa.select(sa.func.count(), sa.func.count(f.c.error)).where(f.c.method == method)).one()
    return {"fingerprinted": int(row[0]) - int(row[1]), "unreadable": int(row[1])}
