"""Catalog reads and writes for curation: which media need probing, probe facts, verdicts, the rules.

Writes are executemany UPDATEs keyed by video id, one transaction per batch;
reads are single set-based queries (the probe facts are pulled out of the JSON
column by the database, the same way on SQLite and Postgres).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from db.models import CatalogMeta, CrawlItem, Video
from db.types import utcnow
from db.upsert import BATCH_ROWS, batched, upsert

#: probe facts the filter reads, with the SQL type they are extracted as
PROBE_COLUMNS: dict[str, str] = {
    "readable": "boolean",
    "truncated": "boolean",
    "first_frame_decodes": "boolean",
    "vfr": "boolean",
    "frames": "integer",
    "fps": "float",
    "duration_s": "float",
    "width": "integer",
    "height": "integer",
    "rotation": "integer",
    "codec": "string",
    "container": "string",
    "has_audio": "boolean",
    "reason": "string",
}
RULES_KEY_PREFIX = "curation_rules:"
#: the probe's reason for a file that was not there; such videos are probed again on the next run
MISSING_REASON = "missing file"


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A catalogued media file: its video, its path relative to the data folder, its digest."""

    video_id: str
    media_path: str
    media_sha256: str | None
    #: the id of the media root the file was stored in (None: unknown, an older catalog)
    media_root: str | None = None
    #: when it was last probed (None: never): part of the probe claim's key, so that --all probes again
    probed_at: object = None

    @property
    def claim_key(self) -> str:
        """The unit a probe claims: this video, these bytes, since its last probe."""
        return f"{self.video_id}:{self.media_sha256 or '-'}:{self.probed_at.isoformat() if self.probed_at else 'never'}"


def _needs_probe(table: sa.Table) -> sa.ColumnElement[bool]:
    # never probed, the file changed since (a re-download with other bytes), or it was missing then
    return sa.or_(
        table.c.probed_at.is_(None),
        table.c.probed_sha256.is_distinct_from(table.c.media_sha256),
        table.c.probe["reason"].as_string() == MISSING_REASON,
    )


def pending_probes(engine: Engine, everything: bool = False) -> list[MediaFile]:
    """Media not probed yet, whose sha256 changed since, or whose file was missing (all media with ``everything``)."""
    table = Video.__table__
    query = sa.select(table.c.id, table.c.media_path, table.c.media_sha256, table.c.media_root, table.c.probed_at).where(table.c.media_path.is_not(None))
    if not everything:
        query = query.where(_needs_probe(table))
    with engine.connect() as conn:
        return [MediaFile(*row) for row in conn.execute(query.order_by(table.c.id))]


def store_probes(engine: Engine, rows: Iterable[Mapping[str, Any]], batch_rows: int = BATCH_ROWS) -> int:
    """Stores ``{video_id, media_sha256, probe}`` rows, one transaction per batch; returns rows written.

    A row is skipped when the video's sha256 changed after it was listed, so that
    facts are never attached to other bytes than those probed.
    """
    table = Video.__table__
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .where(table.c.media_sha256.is_not_distinct_from(sa.bindparam("b_sha", type_=sa.String)))
        .values(probe=sa.bindparam("b_probe", type_=table.c.probe.type), probed_sha256=sa.bindparam("b_sha"), probed_at=sa.bindparam("b_at"))
    )
    written = 0
    for chunk in batched(rows, batch_rows):
        now = utcnow()
        params = [{"b_id": r["video_id"], "b_sha": r["media_sha256"], "b_probe": r["probe"], "b_at": now} for r in chunk]
        with engine.begin() as conn:
            written += _rowcount(conn, stmt, params)
    return written


def _rowcount(conn: Connection, stmt: sa.Executable, params: Sequence[Mapping[str, Any]]) -> int:
    # both drivers sum the rows matched over an executemany
    return max(conn.execute(stmt, list(params)).rowcount, 0)


def load_curation_frame(engine: Engine) -> pd.DataFrame:
    """One row per video: media, whether its probe facts are current, those facts, its stored verdict.

    Columns: ``video_id, media_path, media_sha256, has_media, probed, verdict,
    verdict_reasons, rules_hash`` and the probe facts named in :data:`PROBE_COLUMNS`
    (missing facts are null).
    """
    table = Video.__table__
    current = sa.and_(table.c.probed_at.is_not(None), table.c.probed_sha256.is_not_distinct_from(table.c.media_sha256))
    columns = [
        table.c.id.label("video_id"),
        table.c.media_path,
        table.c.media_sha256,
        sa.case((current, True), else_=False).label("probed"),
        table.c.verdict,
        table.c.verdict_reasons,
        table.c.rules_hash,
        *(_fact(table, name, kind) for name, kind in PROBE_COLUMNS.items()),
    ]
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(sa.select(*columns).order_by(table.c.id)).mappings().all(), columns=[c.name for c in columns])
    frame["has_media"] = frame["media_path"].notna()
    frame["probed"] = frame["probed"].astype(bool)
    return frame


def _fact(table: sa.Table, name: str, kind: str) -> sa.ColumnElement[Any]:
    element = table.c.probe[name]
    typed = {"boolean": element.as_boolean, "integer": element.as_integer, "float": element.as_float, "string": element.as_string}
    return typed[kind]().label(name)


def store_verdicts(engine: Engine, verdicts: pd.DataFrame, rules_hash: str, rules: Mapping[str, Any]) -> int:
    """Writes ``video_id, verdict, reasons`` for every row and records the rules, in one transaction."""
    table = Video.__table__
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values(
            verdict=sa.bindparam("b_verdict"),
            verdict_reasons=sa.bindparam("b_reasons", type_=table.c.verdict_reasons.type),
            rules_hash=rules_hash,
            filtered_at=utcnow(),
        )
    )
    params = pd.DataFrame(
        {"b_id": verdicts["video_id"], "b_verdict": verdicts["verdict"], "b_reasons": verdicts["reasons"]}
    ).to_dict("records")
    from db.overrides import reapply_overrides

    with engine.begin() as conn:
        store_rules(conn, rules_hash, rules)
        written = sum(_rowcount(conn, stmt, chunk) for chunk in batched(params, BATCH_ROWS))
        reapply_overrides(conn)  # a verdict set by hand outlives re-filtering
        return written


def store_rules(conn: Connection, rules_hash: str, rules: Mapping[str, Any]) -> None:
    """Keeps the rules under their hash in ``catalog_meta``, so that a snapshot can name them."""
    row = {"key": RULES_KEY_PREFIX + rules_hash[:32], "value": orjson.dumps(dict(rules), option=orjson.OPT_SORT_KEYS).decode()}
    upsert(conn, CatalogMeta.__table__, [row], key=["key"])


def rules_by_hash(engine: Engine, hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored rules for each of ``hashes`` (those the catalog knows), e.g. for a snapshot's manifest."""
    wanted = {RULES_KEY_PREFIX + h[:32]: h for h in hashes if h}
    table = CatalogMeta.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.key, table.c.value).where(table.c.key.in_(list(wanted)))).all()
    return {wanted[key]: orjson.loads(value) for key, value in rows}


def load_crawl_depths(engine: Engine) -> pd.DataFrame:
    """``video_id, depth``: each crawled video's smallest depth over all crawls (for the report)."""
    table = CrawlItem.__table__
    query = sa.select(table.c.video_id, sa.func.min(table.c.depth).label("depth")).group_by(table.c.video_id)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=["video_id", "depth"])
