"""Writing parsed records into the catalog and reading its summary.

``write_items`` is the one path by which payloads (imported files, crawled
pages) become rows: authors, videos and observed metrics, batch by batch, each
batch in one transaction so that a record is never half-written.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.records import AuthorRecord, MetricRecord, ParsedItem, Provenance, RecordColumns, VideoRecord
from db.models import Author, CatalogMeta, CrawlRun, MetricObservation, Snapshot, Video
from db.types import utcnow
from db.upsert import BATCH_ROWS, batched, dialect_insert, insert_new, insert_new_columns, upsert, upsert_columns

AUTHOR_STATS = ("followers", "following", "hearts", "video_count")
AUTHOR_FIELDS = tuple(f.name for f in fields(AuthorRecord))
VIDEO_FIELDS = tuple(f.name for f in fields(VideoRecord))
METRIC_FIELDS = ("plays", "likes", "comments", "shares", "saves", "author_followers")


@dataclass
class WriteCounts:
    """What a write changed: videos new and updated, authors written, observations added."""

    new: int = 0
    updated: int = 0
    authors: int = 0
    observations: int = 0

    def __iadd__(self, other: WriteCounts) -> WriteCounts:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


def metric_fingerprint(values: Sequence[Any]) -> str:
    """A short digest of a set of counts; equal counts give equal digests."""
    return hashlib.sha1("|".join("" if v is None else str(v) for v in values).encode()).hexdigest()


def write_items(
    engine: Engine, items: Iterable[ParsedItem], source: str, batch_size: int = BATCH_ROWS, observed_at: datetime | None = None
) -> WriteCounts:
    """Upserts authors and videos and adds changed observations, one transaction per batch."""
    total = WriteCounts()
    for batch in batched(items, batch_size):
        with engine.begin() as conn:
            total += write_batch(conn, batch, source, observed_at or utcnow())
    return total


def write_authors(engine: Engine, records: Iterable[AuthorRecord], observed_at: datetime | None = None) -> int:
    """Upserts accounts seen without a video (a creator page that lists none); returns how many were written."""
    merged = _merge_authors(records)
    if not merged:
        return 0
    with engine.begin() as conn:
        return _upsert_authors(conn, list(merged.values()), observed_at or utcnow())


def write_batch(conn: Connection, items: Sequence[ParsedItem], source: str, observed_at: datetime) -> WriteCounts:
    """Writes one batch on an open transaction; later items win over earlier ones with the same id."""
    videos = {item.video.id: item for item in items}
    authors = _merge_authors(item.author for item in videos.values() if item.author is not None)
    counts = WriteCounts(authors=_upsert_authors(conn, list(authors.values()), observed_at))
    existing = _existing_video_ids(conn, list(videos))
    changed = upsert(conn, Video.__table__, [_video_row(i, observed_at) for i in videos.values()], key=["id"])
    counts.new = len(videos) - len(existing)
    counts.updated = changed - counts.new
    # an item whose counts were withheld still tells the author's followers (kept on the author),
    # but it is no observation of the video: synth may fill it
    obs = [_observation_row(i, source, observed_at) for i in videos.values() if i.metrics and i.metrics.has_engagement()]
    counts.observations = insert_new(
        conn, MetricObservation.__table__, obs, key=["video_id", "provenance", "fingerprint"]
    )
    return counts


_AUTHOR_VALUES = attrgetter(*AUTHOR_FIELDS)
_VIDEO_VALUES = attrgetter(*VIDEO_FIELDS)


def _shallow(record: Any, names: Sequence[str], values: Any) -> dict[str, Any]:
    # dataclasses.asdict deep-copies every value; these rows are consumed at once
    return dict(zip(names, values(record), strict=True))


def _merge_authors(records: Iterable[AuthorRecord]) -> dict[str, AuthorRecord]:
    merged: dict[str, AuthorRecord] = {}
    for rec in records:
        old = merged.get(rec.id)
        if old is None or old == rec:
            merged[rec.id] = rec if old is None else old
        else:
            merged[rec.id] = AuthorRecord(
                **{n: (v if (v := getattr(rec, n)) is not None else getattr(old, n)) for n in AUTHOR_FIELDS}
            )
    return merged


def _upsert_authors(conn: Connection, records: list[AuthorRecord], now: datetime) -> int:
    rows = [_author_row(r, now) for r in records]
    if not rows:
        return 0
    return upsert(conn, Author.__table__, rows, key=["id"], overrides=_author_overrides(conn))


def _author_overrides(conn: Connection) -> dict[str, Any]:
    table = Author.__table__
    excluded = dialect_insert(conn, table).excluded
    # observed counts replace simulated ones wholesale instead of merging with them
    return {
        c: sa.case(
            (sa.and_(excluded.stats_provenance == Provenance.OBSERVED, table.c.stats_provenance == Provenance.SIMULATED), excluded[c]),
            else_=sa.func.coalesce(excluded[c], table.c[c]),
        )
        for c in AUTHOR_STATS
    }


def _author_row(rec: AuthorRecord, now: datetime) -> dict[str, Any]:
    row = _shallow(rec, AUTHOR_FIELDS, _AUTHOR_VALUES)
    row["account_created_at"] = row.pop("created_at")
    has_stats = any(row[c] is not None for c in AUTHOR_STATS)
    row["stats_provenance"] = Provenance.OBSERVED.value if has_stats else None
    row["account_created_provenance"] = Provenance.OBSERVED.value if row["account_created_at"] else None
    row["first_seen_at"] = row["updated_at"] = now
    return row


def _existing_video_ids(conn: Connection, ids: list[str]) -> set[str]:
    return _existing_ids(conn, Video.__table__, ids)


def _existing_ids(conn: Connection, table: sa.Table, ids: list[str]) -> set[str]:
    """Which of ``ids`` the table's ``id`` column holds."""
    # written out per dialect: SQLAlchemy's expanding IN names each of a batch's 2,000 parameters
    # on every call, which cost 15 % of a table import's write
    if not ids:
        return set()
    if conn.dialect.name == "sqlite":
        found: set[str] = set()
        for chunk in batched(ids, 30_000):  # SQLite takes at most 32,766 parameters
            rows = conn.exec_driver_sql(f"SELECT id FROM {table.name} WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk))
            found.update(row[0] for row in rows)
        return found
    if conn.dialect.name == "postgresql":
        return set(conn.execute(sa.text(f"SELECT id FROM {table.name} WHERE id = ANY(:ids)"), {"ids": list(ids)}).scalars())
    return set(conn.execute(sa.select(table.c.id).where(table.c.id.in_(ids))).scalars())


def _video_row(item: ParsedItem, now: datetime) -> dict[str, Any]:
    row = _shallow(item.video, VIDEO_FIELDS, _VIDEO_VALUES)
    row.pop("author_handle")
    row["hashtags"] = list(row["hashtags"]) or None
    row["raw"] = item.raw
    row["source_format"] = item.source_format
    row["category_provenance"] = Provenance.OBSERVED.value if row["category"] else None
    row["first_seen_at"] = row["updated_at"] = now
    return row


def _observation_row(item: ParsedItem, source: str, observed_at: datetime) -> dict[str, Any]:
    metrics: MetricRecord = item.metrics  # type: ignore[assignment]
    values = [getattr(metrics, f) for f in METRIC_FIELDS]
    row: dict[str, Any] = dict(zip(METRIC_FIELDS, values, strict=True))
    row.update(
        video_id=item.video.id,
        observed_at=observed_at,
        provenance=Provenance.OBSERVED.value,
        source=source,
        fingerprint=metric_fingerprint(values),
    )
    return row


@contextmanager
def indexes_built_after(conn: Connection) -> Iterator[bool]:
    """When the author, video and observation tables are all empty, drops their secondary indexes for the
    load that follows and builds them again after it, in the same transaction: the usual bulk-load advice
    (SQLite's and Postgres's own), since building an index once from all its rows is cheaper than keeping
    it up to date row by row. A load that fails rolls the drops back with everything else. Yields whether
    the indexes were deferred (a catalog that holds rows keeps its indexes: rebuilding them would cost more)."""
    from db.engine import begin_now

    begin_now(conn)  # the drops belong to the load's transaction
    tables = (Author.__table__, Video.__table__, MetricObservation.__table__)
    empty = all(conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first() is None for t in tables)
    deferred = [index for table in tables for index in table.indexes] if empty else []
    for index in deferred:
        index.drop(conn)
    yield bool(deferred)
    for index in deferred:
        index.create(conn)


def write_columns(conn: Connection, batch: RecordColumns, source: str, observed_at: datetime) -> WriteCounts:
    """:func:`write_batch` for a batch of table rows given column by column, on an open transaction.

    As there, a later row wins over an earlier one with the same video id, and an
    author's fields are the last known of its rows.
    """
    ids = batch.video["id"]
    last = dict(zip(ids, range(len(ids))))
    pick = _picker(sorted(last.values()) if len(last) < len(ids) else None)
    video, metrics = {k: pick(v) for k, v in batch.video.items()}, {k: pick(v) for k, v in batch.metrics.items()}
    now = {"first_seen_at": observed_at, "updated_at": observed_at}
    authors = _author_columns(batch.author)
    known = _stored(authors["id"], _existing_ids(conn, Author.__table__, authors["id"]))
    counts = WriteCounts(authors=insert_new_columns(conn, Author.__table__, _take(authors, known, False), ["id"], same=now))
    counts.authors += upsert_columns(conn, Author.__table__, _take(authors, known, True), ["id"], same=now, overrides=_author_overrides(conn))
    # a CSV's rows come as JSON text already, which SQLite stores as it is
    as_text = conn.dialect.name == "sqlite" and batch.raw_json is not None
    columns = _video_columns(video, pick(batch.raw_json if as_text else batch.raw_rows()), batch.source_format)
    bound = frozenset({"raw"} if as_text else ())
    # rows of videos not stored yet are plain inserts (SQLite's DO UPDATE costs half as much again per row, conflict or not)
    stored = _stored(video["id"], _existing_video_ids(conn, video["id"]))
    counts.new = insert_new_columns(conn, Video.__table__, _take(columns, stored, False), ["id"], same=now, bound=bound)
    counts.updated = upsert_columns(conn, Video.__table__, _take(columns, stored, True), ["id"], same=now, bound=bound)
    observed = {"observed_at": observed_at, "provenance": Provenance.OBSERVED.value, "source": source}
    counts.observations = insert_new_columns(conn, MetricObservation.__table__, _observation_columns(video["id"], metrics),
                                             ["video_id", "provenance", "fingerprint"], same=observed)
    return counts


def _stored(ids: list[str], existing: set[str]) -> Any:
    """Per row: whether its id is in ``existing`` (a boolean array)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not existing:
        return None
    return pc.is_in(pa.array(ids, pa.string()), value_set=pa.array(list(existing), pa.string())).to_numpy(zero_copy_only=False)


def _take(columns: dict[str, list[Any]], stored: Any, which: bool) -> dict[str, list[Any]]:
    """The rows of ``columns`` whose ``stored`` flag is ``which`` (``stored`` None: none is stored)."""
    import numpy as np

    if stored is None:
        return columns if not which else {k: [] for k in columns}
    rows = np.flatnonzero(stored == which).tolist()
    pick = _picker(rows if len(rows) < len(stored) else None)
    return {k: pick(v) for k, v in columns.items()}


def _picker(rows: list[int] | None) -> Any:
    """A function that takes ``rows`` out of a column (None: all of them)."""
    if rows is None:
        return lambda values: values
    if len(rows) < 2:
        return lambda values: [values[i] for i in rows]
    get = itemgetter(*rows)
    return lambda values: list(get(values))


def _author_columns(author: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The authors of a batch, each once with the last known value of each field (as :func:`_merge_authors`)."""
    import numpy as np
    import pyarrow as pa

    ids, n = author["id"], len(author["id"])
    fields = [f for f in AUTHOR_FIELDS if f != "id"]
    values = {f: np.fromiter([*author[f], None], dtype=object, count=n + 1) for f in fields}
    at = np.arange(n)
    # per author and field, the last row that knows the field (-1: none), aggregated by Arrow
    known = pa.table({"id": pa.array(ids, pa.string()), **{f: np.where(np.equal(values[f][:n], None), -1, at) for f in fields}})
    grouped = known.filter(pa.compute.is_valid(known["id"])).group_by("id").aggregate([(f, "max") for f in fields])
    columns = {"id": grouped["id"].to_pylist()}
    for f in fields:
        rows = grouped[f"{f}_max"].to_numpy()
        columns[f] = values[f][np.where(rows < 0, n, rows)].tolist()
    columns["account_created_at"] = columns.pop("created_at")
    stats = np.zeros(len(columns["id"]), dtype=bool)
    for c in AUTHOR_STATS:
        stats |= ~np.equal(np.array(columns[c], dtype=object), None)
    columns["stats_provenance"] = np.where(stats, Provenance.OBSERVED.value, None).tolist()
    columns["account_created_provenance"] = [Provenance.OBSERVED.value if c else None for c in columns["account_created_at"]]
    return columns


def _video_columns(video: dict[str, list[Any]], raw: list[dict[str, Any]], source_format: str) -> dict[str, list[Any]]:
    columns = {k: v for k, v in video.items() if k != "author_handle"}
    columns["hashtags"] = [list(h) or None for h in video["hashtags"]]
    columns["raw"] = raw
    columns["source_format"] = [source_format] * len(raw)
    columns["category_provenance"] = [Provenance.OBSERVED.value if c else None for c in video["category"]]
    return columns


def _observation_columns(ids: list[str], metrics: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The observations of rows with one of the video's own counts, with the digest of their counts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    counts = {f: pa.array(metrics[f], pa.int64()) for f in METRIC_FIELDS}
    engaged = np.zeros(len(ids), dtype=bool)
    for f in METRIC_FIELDS[:5]:
        engaged |= counts[f].is_valid().to_numpy(zero_copy_only=False)
    keep = pa.array(engaged)
    kept = {f: counts[f].filter(keep) for f in METRIC_FIELDS}
    # metric_fingerprint's text, built on whole columns: the counts joined by '|', an unknown one empty
    text = pc.binary_join_element_wise(*(pc.fill_null(pc.cast(kept[f], pa.string()), "") for f in METRIC_FIELDS), "|")
    columns = {f: kept[f].to_pylist() for f in METRIC_FIELDS}
    columns["video_id"] = pa.array(ids, pa.string()).filter(keep).to_pylist()
    columns["fingerprint"] = [hashlib.sha1(t.encode()).hexdigest() for t in text.to_pylist()]
    return columns


def catalog_status(engine: Engine) -> dict[str, Any]:
    """Counts of everything the catalog holds, in the shape ``curate status --json`` prints."""
    obs = MetricObservation.__table__
    with engine.connect() as conn:
        by_prov = dict(conn.execute(sa.select(obs.c.provenance, sa.func.count()).group_by(obs.c.provenance)).all())
        return {
            "videos": _count(conn, Video.__table__),
            "authors": _count(conn, Author.__table__),
            "observations": {p.value: int(by_prov.get(p.value, 0)) for p in Provenance},
            "crawl_runs": _count(conn, CrawlRun.__table__),
            "media_files": _count(conn, Video.__table__, Video.__table__.c.media_path.is_not(None)),
            "snapshots": _count(conn, Snapshot.__table__),
        }


def _count(conn: Connection, table: sa.Table, where: sa.ColumnElement[bool] | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if where is not None:
        query = query.where(where)
    return int(conn.execute(query).scalar_one())


def catalog_secret(engine: Engine, key: str = "pseudonym_secret") -> str:
    """A per-catalog random secret (created on first use), e.g. the key of author pseudonyms."""
    table = CatalogMeta.__table__
    with engine.begin() as conn:
        insert_new(conn, table, [{"key": key, "value": secrets.token_hex(32)}], key=["key"])
        return conn.execute(sa.select(table.c.value).where(table.c.key == key)).scalar_one()
