"""The videos table's SQL: facets counted by the database, a caption/hashtag search, one page of rows.

Every facet is one SQL expression over ``video`` joined with its smallest crawl
depth and, when a snapshot is chosen, that snapshot's split and label per video
(passed as one JSON parameter and unpacked by the database: ``json_each`` on
SQLite, ``jsonb_array_elements`` on Postgres), so filters and counts run in SQL
on both dialects. Reasons are counted over the elements of the JSON reason list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.models import Author, CrawlItem, MetricObservation, Video

PAGE_SIZE = 50
FACETS = ("verdict", "reason", "provenance", "split", "label", "category", "depth", "has_media")
SNAPSHOT_FACETS = ("split", "label")
NONE = "(none)"


@dataclass(frozen=True)
class VideoQuery:
    """What the videos page was asked: facet values, a search text, a page, and the snapshot for split/label."""

    filters: Mapping[str, str] = field(default_factory=dict)
    search: str = ""
    page: int = 1
    snapshot_rows: str | None = None  # JSON [[video_id, split, label], ...] of the chosen snapshot

    @classmethod
    def from_params(cls, params: Mapping[str, str], snapshot_rows: str | None) -> VideoQuery:
        """Reads ``?verdict=…&q=…&page=…`` (unknown keys ignored; a bad page number is page 1)."""
        filters = {k: params[k] for k in FACETS if params.get(k)}
        page = int(params["page"]) if str(params.get("page", "")).isdigit() and int(params["page"]) > 0 else 1
        return cls(filters, (params.get("q") or "").strip()[:200], page, snapshot_rows)


def snapshot_labels(snapshot: Any) -> dict[str, tuple[str, str]]:
    """video id → (split, label) of a snapshot (label: viral, not viral, undefined)."""
    frame = snapshot.frame(["video_id", "split", "viral_er"])
    label = frame["viral_er"].map({True: "viral", False: "not viral"}).fillna("undefined")
    return dict(zip(frame["video_id"].astype(str), zip(frame["split"], label, strict=True), strict=True))


def snapshot_json(labels: Mapping[str, tuple[str, str]]) -> str:
    """``[[video_id, split, label], …]``: the facets' JSON parameter."""
    import orjson

    return orjson.dumps([[vid, split, label] for vid, (split, label) in labels.items()]).decode()


def _snapshot_rows(dialect: str) -> sa.TextClause:
    if dialect == "postgresql":
        sql = ("SELECT r.value->>0 AS video_id, r.value->>1 AS split, r.value->>2 AS label "
               "FROM jsonb_array_elements(CAST(:snapshot_rows AS jsonb)) AS r(value)")
    else:
        sql = ("SELECT json_extract(r.value, '$[0]') AS video_id, json_extract(r.value, '$[1]') AS split, "
               "json_extract(r.value, '$[2]') AS label FROM json_each(:snapshot_rows) AS r")
    return sa.text(sql).columns(sa.column("video_id", sa.String), sa.column("split", sa.String), sa.column("label", sa.String))


def _reasons(dialect: str, column: sa.ColumnElement) -> Any:
    """The reason list's elements as a table-valued function (one row per reason)."""
    if dialect == "postgresql":
        array = sa.case((sa.func.jsonb_typeof(column) == "array", column), else_=sa.cast(sa.literal("[]"), column.type))
        return sa.func.jsonb_array_elements_text(array).table_valued("value")
    return sa.func.json_each(column).table_valued("value")


def _reason_word(value: sa.ColumnElement) -> sa.ColumnElement[str]:
    """``duplicate_of:<id>`` → duplicate, ``override:… by …`` → override; other reasons as they are."""
    return sa.case(
        (value.like("near_duplicate_of:%"), "near_duplicate"), (value.like("duplicate_of:%"), "duplicate"),
        (value.like("override:%"), "override"), else_=value,
    )


class VideoTable:
    """The facet expressions, and the FROM clause each query needs (the snapshot's rows only where used)."""

    def __init__(self, dialect: str, with_snapshot: bool) -> None:
        self.dialect, self.v = dialect, Video.__table__
        o, c = MetricObservation.__table__, CrawlItem.__table__
        v = self.v
        self.snap = _snapshot_rows(dialect).subquery("s") if with_snapshot else None
        observed = sa.exists().where(o.c.video_id == v.c.id, o.c.provenance == "observed")
        simulated = sa.exists().where(o.c.video_id == v.c.id)
        depth = sa.select(sa.func.min(c.c.depth)).where(c.c.video_id == v.c.id).scalar_subquery()  # ix_crawl_item_video_depth
        self.expressions: dict[str, sa.ColumnElement] = {
            "verdict": sa.func.coalesce(v.c.verdict, "unfiltered"),
            "provenance": sa.case((observed, "observed"), (simulated, "simulated"), else_="no metrics"),
            "category": sa.func.coalesce(v.c.category, NONE),
            "depth": sa.func.coalesce(sa.cast(depth, sa.String), "not crawled"),
            "has_media": sa.case((v.c.media_path.is_not(None), "yes"), else_="no"),
        }
        if self.snap is not None:
            self.expressions["split"] = sa.func.coalesce(self.snap.c.split, "not in snapshot")
            self.expressions["label"] = sa.func.coalesce(self.snap.c.label, "not in snapshot")

    def from_(self, query: VideoQuery, *counted: str) -> Any:
        """``video``, joined with the snapshot's rows only when a split/label filter or count needs them."""
        wanted = set(query.filters) | set(counted)
        if self.snap is not None and wanted & set(SNAPSHOT_FACETS):
            return self.v.outerjoin(self.snap, self.snap.c.video_id == self.v.c.id)
        return self.v

    def _matches(self, name: str, value: str) -> sa.ColumnElement[bool]:
        """``facet = value`` written so that an index on the column can serve it (no function around the column)."""
        v = self.v.c
        columns = {"verdict": (v.verdict, "unfiltered"), "category": (v.category, NONE), "has_media": (v.media_path, "no")}
        if name in columns:
            column, missing = columns[name]
            if name == "has_media":
                return column.is_(None) if value == missing else column.is_not(None)
            return column.is_(None) if value == missing else column == value
        return self.expressions[name] == value

    def where(self, query: VideoQuery) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses of the filters and the search."""
        clauses = [self._matches(k, v) for k, v in query.filters.items() if k in self.expressions]
        if "reason" in query.filters:
            elements = _reasons(self.dialect, self.v.c.verdict_reasons)
            clauses.append(sa.exists(sa.select(1).select_from(elements).where(_reason_word(elements.c.value) == query.filters["reason"])))
        if query.search:
            pattern = "%" + query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            tags = sa.cast(self.v.c.hashtags, sa.Text)
            clauses.append(sa.or_(self.v.c.caption.ilike(pattern, escape="\\"), tags.ilike(pattern, escape="\\")))
        return clauses

    def _grouped(self, conn: sa.Connection, query: VideoQuery, params: dict[str, Any], names: tuple[str, ...]) -> list[tuple]:
        exprs = [self.expressions[n] for n in names]
        q = (sa.select(*(e.label(n) for e, n in zip(exprs, names, strict=True)), sa.func.count().label("n"))
             .select_from(self.from_(query, *names)).where(*self.where(query)).group_by(*exprs))
        return [tuple(r) for r in conn.execute(q, params)]

    def facet_counts(self, conn: sa.Connection, query: VideoQuery, params: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
        """Per facet, (value, count) over the filtered rows, most first.

        The catalog's facets are counted in one GROUP BY over all of them (one pass over the rows, each
        correlated lookup made once per row), split and label in another; the groups are then summed per facet.
        """
        counts: dict[str, dict[str, int]] = {}
        plain = tuple(n for n in self.expressions if n not in SNAPSHOT_FACETS)
        for names in (plain, SNAPSHOT_FACETS if self.snap is not None else ()):
            if not names:
                continue
            for name in names:
                counts[name] = {}
            for *values, n in self._grouped(conn, query, params, names):
                for name, value in zip(names, values, strict=True):
                    counts[name][str(value)] = counts[name].get(str(value), 0) + int(n)
        elements = _reasons(self.dialect, self.v.c.verdict_reasons)
        word = _reason_word(elements.c.value)
        q = (sa.select(word.label("value"), sa.func.count(sa.distinct(self.v.c.id))).select_from(self.from_(query))
             .join(elements, sa.true()).where(*self.where(query), elements.c.value.is_not(None)).group_by(word))
        counts["reason"] = {str(v): int(n) for v, n in conn.execute(q, params)}
        return {k: sorted(counts[k].items(), key=lambda p: (-p[1], p[0])) for k in FACETS if k in counts}

    def page(self, conn: sa.Connection, query: VideoQuery, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The page's rows ordered by video id (split and label added by the caller)."""
        a = Author.__table__
        columns = [self.v.c.id, self.v.c.caption, self.v.c.hashtags, self.v.c.category, self.v.c.duration_s,
                   self.v.c.verdict, self.v.c.verdict_reasons, self.v.c.media_path, self.v.c.author_id, a.c.handle.label("author_handle"),
                   self.expressions["provenance"].label("provenance"), self.expressions["depth"].label("depth")]
        q = (sa.select(*columns).select_from(self.from_(query).outerjoin(a, a.c.id == self.v.c.author_id))
             .where(*self.where(query)).order_by(self.v.c.id).limit(PAGE_SIZE).offset((query.page - 1) * PAGE_SIZE))
        return [dict(r) for r in conn.execute(q, params).mappings()]


def list_videos(engine: Engine, query: VideoQuery, labels: Mapping[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """Facet counts, the total (the verdict facet's sum) and one page of rows; ``labels``: video → (split, label)."""
    table = VideoTable(engine.dialect.name, query.snapshot_rows is not None)
    params = {"snapshot_rows": query.snapshot_rows} if query.snapshot_rows is not None else {}
    with engine.connect() as conn:
        rows = table.page(conn, query, params)
        facets = table.facet_counts(conn, query, params)
    for row in rows:
        row["split"], row["label"] = (labels or {}).get(row["id"], ("not in snapshot", "not in snapshot") if labels is not None else (None, None))
    total = sum(n for _, n in facets["verdict"])
    return {"total": total, "rows": rows, "facets": facets, "pages": max(1, -(-total // PAGE_SIZE))}
