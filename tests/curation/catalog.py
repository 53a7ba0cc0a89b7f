"""Putting videos with media files into a test catalog, as `curate download` would leave them."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.records import AuthorRecord, MetricRecord, ParsedItem, VideoRecord
from db.catalog import write_items
from db.models import Video


def item(video_id: str, author: str = "500", plays: int = 1000, likes: int = 100, followers: int = 1000) -> ParsedItem:
    """A parsed video with an author and one observation."""
    return ParsedItem(
        video=VideoRecord(id=video_id, author_id=author, caption=f"video {video_id}"),
        author=AuthorRecord(id=author, handle=f"user{author}", followers=followers),
        metrics=MetricRecord(plays=plays, likes=likes, comments=likes // 10, shares=likes // 20, author_followers=followers),
        raw={"id": video_id},
        source_format="test",
    )


def add_videos(engine: Engine, home: Path, media: Mapping[str, Path | None]) -> None:
    """Writes one video per key; copies its file (if any) to ``home/media/<id><ext>`` and records path, sha256, size."""
    # counts spread over decades, derived from the id so that every run writes the same
    write_items(engine, [item(vid, plays=1000 * (int(vid) % 13 + 1) ** 3, likes=37 * (int(vid) % 11 + 1) ** 2, followers=500 * (int(vid) % 7 + 1) ** 2) for vid in media], "test")
    rows = []
    for vid, source in media.items():
        if source is None:
            continue
        target = home / "media" / f"{vid}{source.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        data = target.read_bytes()
        rows.append({"b_id": vid, "path": f"media/{target.name}", "sha": hashlib.sha256(data).hexdigest(), "size": len(data)})
    table = Video.__table__
    stmt = sa.update(table).where(table.c.id == sa.bindparam("b_id")).values(
        media_path=sa.bindparam("path"), media_sha256=sa.bindparam("sha"), media_size=sa.bindparam("size")
    )
    if rows:
        with engine.begin() as conn:
            conn.execute(stmt, rows)


def set_sha(engine: Engine, video_id: str, sha: str) -> None:
    """Pretends the video's file was downloaded again with other bytes."""
    with engine.begin() as conn:
        conn.execute(sa.update(Video.__table__).where(Video.__table__.c.id == video_id).values(media_sha256=sha))


def column(engine: Engine, name: str) -> dict[str, object]:
    """``{video_id: value}`` of one column of the video table."""
    table = Video.__table__
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(table.c.id, table.c[name])).all())
