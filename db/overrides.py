"""Verdicts set by hand (``curate serve --allow-writes``): recorded with who and when, kept over re-filtering.

An override changes the video's verdict at once and stays in ``verdict_override``;
``curate filter`` applies the latest override of each video again after writing
the rules' verdicts, and a snapshot's manifest lists the overrides of its rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.errors import CurateError
from db.models import VerdictOverride, Video
from db.types import utcnow

VERDICTS = ("kept", "rejected")
#: the reason an overridden video carries
OVERRIDE_REASON = "override:{verdict} by {made_by}"


class OverrideError(CurateError):
    """An override that cannot be recorded: unknown video or verdict, no name given."""


def record_override(engine: Engine, video_id: str, verdict: str, made_by: str, note: str | None = None) -> dict[str, Any]:
    """Sets ``video_id``'s verdict by hand and records it; returns the override as stored."""
    made_by = (made_by or "").strip()
    if verdict not in VERDICTS:
        raise OverrideError(f"verdict must be kept or rejected, not {verdict!r}")
    if not made_by or len(made_by) > 64:
        raise OverrideError("say who overrides the verdict (a name of 1 to 64 characters)")
    v = Video.__table__
    with engine.begin() as conn:
        current = conn.execute(sa.select(v.c.verdict, v.c.verdict_reasons, v.c.id).where(v.c.id == video_id)).one_or_none()
        if current is None:
            raise OverrideError(f"no video {video_id!r} in the catalog")
        row = {"video_id": video_id, "verdict": verdict, "rule_verdict": current[0], "rule_reasons": _rule_reasons(current[1]),
               "note": (note or "").strip() or None, "made_by": made_by, "made_at": utcnow()}
        conn.execute(sa.insert(VerdictOverride.__table__).values(**row))
        _apply(conn, [row])
    return row


def _rule_reasons(reasons: Any) -> list | None:
    """The reasons without an earlier override's own (an override of an override keeps the rules' reasons)."""
    if reasons is None:
        return None
    return [r for r in reasons if not str(r).startswith("override:")]


def _apply(conn: Connection, rows: Iterable[dict[str, Any]]) -> int:
    v = Video.__table__
    stmt = sa.update(v).where(v.c.id == sa.bindparam("b_id")).values(
        verdict=sa.bindparam("b_verdict"), verdict_reasons=sa.bindparam("b_reasons", type_=v.c.verdict_reasons.type))
    params = [{"b_id": r["video_id"], "b_verdict": r["verdict"],
               "b_reasons": [OVERRIDE_REASON.format(**r), *(r["rule_reasons"] or [])] if r["verdict"] == "rejected"
               else [OVERRIDE_REASON.format(**r)]} for r in rows]
    return conn.execute(stmt, params).rowcount if params else 0


def latest_overrides(conn_or_engine: Engine | Connection, video_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The newest override of each video (of ``video_ids`` when given), oldest first."""
    o = VerdictOverride.__table__
    newest = sa.select(sa.func.max(o.c.id)).group_by(o.c.video_id)
    query = sa.select(o).where(o.c.id.in_(newest)).order_by(o.c.id)
    if video_ids is not None:
        query = query.where(o.c.video_id.in_(list(video_ids)))
    if isinstance(conn_or_engine, Connection):
        return [dict(r) for r in conn_or_engine.execute(query).mappings()]
    with conn_or_engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def reapply_overrides(conn: Connection) -> int:
    """Puts every video's latest override back over the rules' verdict (after ``curate filter`` wrote them)."""
    rows = latest_overrides(conn)
    v = Video.__table__
    for row in rows:  # the rules' fresh verdict is what the override now overrides
        current = conn.execute(sa.select(v.c.verdict, v.c.verdict_reasons).where(v.c.id == row["video_id"])).one()
        row["rule_verdict"], row["rule_reasons"] = current[0], _rule_reasons(current[1])
    return _apply(conn, rows)


def overrides_for_manifest(engine: Engine, video_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Every video's latest override, JSON-ready (video, verdict, the rules' verdict, who, when, note), and
    whether the video is among ``video_ids`` (a snapshot's rows; one rejected by hand is not)."""
    rows = set(map(str, video_ids))  # matched here: a snapshot's ids are too many for one IN (...)
    return [{"video_id": r["video_id"], "verdict": r["verdict"], "rule_verdict": r["rule_verdict"],
             "rule_reasons": r["rule_reasons"], "made_by": r["made_by"], "made_at": r["made_at"].isoformat(),
             "note": r["note"], "in_snapshot": r["video_id"] in rows} for r in latest_overrides(engine)]
