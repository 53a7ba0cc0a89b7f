"""Everything the video page shows about one video, read from the catalog (and the newest snapshot for labels)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from web.app import WebState

#: probe facts shown, in this order
PROBE_FACTS = ("container", "codec", "width", "height", "rotation", "fps", "duration_s", "frames", "has_audio",
               "readable", "truncated", "first_frame_decodes", "vfr", "reason")
LABEL_COLUMNS = ("split", "er", "er_defined", "viral_er", "virality_weighted", "viral_all_median", "virality_corr")


def video_details(state: WebState, video_id: str, snapshot_ref: str | None) -> dict[str, Any] | None:
    """The page's data, or None when the catalog has no such video."""
    from db.models import Author, Video

    v, a = Video.__table__, Author.__table__
    with state.engine.connect() as conn:
        query = sa.select(v, a.c.handle.label("author_handle")).select_from(v.outerjoin(a, a.c.id == v.c.author_id)).where(v.c.id == video_id)
        row = conn.execute(query).mappings().one_or_none()
        if row is None:
            return None
        row = dict(row)
        observations = _observations(conn, video_id)
        crawl = _crawl(conn, video_id)
        overrides = _overrides(conn, video_id)
    probe = row.get("probe") or {}
    shown = ("caption", "hashtags", "music_title", "music_original", "author_id", "author_handle")
    row.update(state.scrubbed([{k: row[k] for k in shown}])[0])
    return {
        "video": {k: row[k] for k in ("id", "caption", "hashtags", "create_time", "create_time_provenance", "duration_s",
                                      "width", "height", "music_id", "music_title", "category", "category_provenance",
                                      "media_path", "media_sha256", "media_size", "download_error", "verdict",
                                      "verdict_reasons", "rules_hash", "filtered_at", "first_seen_at")},
        "author_key": row["author_key"],
        "probe": [(k, probe.get(k)) for k in PROBE_FACTS if k in probe],
        "observations": observations,
        "chart": plays_chart(observations),
        "crawl": crawl,
        "overrides": overrides,
        "labels": _labels(state, video_id, snapshot_ref),
        "snapshot_ref": snapshot_ref,
    }


def _observations(conn: sa.Connection, video_id: str) -> list[dict[str, Any]]:
    from db.models import MetricObservation

    o = MetricObservation.__table__
    query = sa.select(o.c.observed_at, o.c.plays, o.c.likes, o.c.comments, o.c.shares, o.c.saves, o.c.author_followers,
                      o.c.provenance, o.c.source).where(o.c.video_id == video_id).order_by(o.c.observed_at, o.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def _crawl(conn: sa.Connection, video_id: str) -> list[dict[str, Any]]:
    from db.models import CrawlItem, CrawlRun

    c, r = CrawlItem.__table__, CrawlRun.__table__
    query = (sa.select(c.c.run_id, c.c.depth, c.c.seq, c.c.parent_id, r.c.source, r.c.started_at)
             .select_from(c.join(r, r.c.id == c.c.run_id)).where(c.c.video_id == video_id).order_by(c.c.run_id))
    return [dict(x) for x in conn.execute(query).mappings()]


def _overrides(conn: sa.Connection, video_id: str) -> list[dict[str, Any]]:
    from db.models import VerdictOverride

    o = VerdictOverride.__table__
    return [dict(x) for x in conn.execute(sa.select(o).where(o.c.video_id == video_id).order_by(o.c.id.desc())).mappings()]


def _labels(state: WebState, video_id: str, ref: str | None) -> dict[str, Any] | None:
    """The video's split and labels in the newest snapshot (None when it is not in one)."""
    if ref is None:
        return None
    import pyarrow.compute as pc

    from db.snapshots import resolve_snapshot

    snapshot = resolve_snapshot(state.config.home, None, ref)
    key = ("labels", snapshot.ref, snapshot.fingerprint)
    if key not in state.cache:  # a version never changes: its label columns are read once
        state.cache[key] = snapshot.table(["video_id", *LABEL_COLUMNS])
    table = state.cache[key]
    hit = table.filter(pc.equal(table["video_id"], video_id))
    return {"ref": ref, **hit.to_pylist()[0]} if hit.num_rows else None


def plays_chart(observations: list[dict[str, Any]], width: int = 480, height: int = 140) -> dict[str, Any] | None:
    """An SVG polyline of plays over time (None with fewer than one observation with plays)."""
    points = [(o["observed_at"].timestamp(), o["plays"]) for o in observations if o["plays"] is not None]
    if not points:
        return None
    times, plays = [p[0] for p in points], [p[1] for p in points]
    t0, t1 = min(times), max(times) if max(times) > min(times) else min(times) + 1
    top = max(plays) or 1
    xy = [(20 + (t - t0) / (t1 - t0) * (width - 40), height - 20 - p / top * (height - 40)) for t, p in points]
    return {"width": width, "height": height, "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in xy),
            "dots": xy, "top": top}
