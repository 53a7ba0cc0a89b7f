"""Analysis frames read from the catalog, and simulated values written back to it.

``load_video_frame`` is the one latest-observation query: one row per video with
its latest metric observation as of a cut-off and its author's fields. The
``write_simulated_*`` functions are how ``curate synth`` stores what it drew —
set-based, one transaction per batch, never over an observed value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.records import Provenance
from db.catalog import metric_fingerprint
from db.models import Author, MetricObservation, Video
from db.types import utcnow
from db.upsert import BATCH_ROWS, batched, insert_new

METRICS = ("plays", "likes", "comments", "shares", "saves")
COUNT_COLUMNS = (*METRICS, "followers", "following", "author_hearts", "author_video_count", "sim_seed")
TIME_COLUMNS = ("account_created_at", "observed_at", "create_time", "first_seen_at")
JSON_COLUMNS = ("hashtags", "probe", "verdict_reasons")
#: what decides "latest" (documented in docs/snapshots.md): observed before simulated, then newest, then last written
LATEST_ORDER = "observed before simulated, then the newest observed_at, then the highest id"

Progress = Callable[[int], None]


def _latest_observation_ids(cutoff: datetime | None) -> sa.Subquery:
    """(video_id, id, rank) of every observation as of ``cutoff``; rank 1 is the latest.

    Only three narrow columns are ranked; the chosen rows are then joined by primary key,
    which is faster than ranking whole observation rows.
    """
    obs = MetricObservation.__table__
    rank = sa.func.row_number().over(
        partition_by=obs.c.video_id,
        order_by=[sa.case((obs.c.provenance == Provenance.OBSERVED.value, 0), else_=1), obs.c.observed_at.desc(), obs.c.id.desc()],
    )
    query = sa.select(obs.c.video_id, obs.c.id, rank.label("rank"))
    if cutoff is not None:
        query = query.where(obs.c.observed_at <= cutoff)
    return query.subquery("pick")


def video_frame_query(cutoff: datetime | None = None, include_rejected: bool = True) -> sa.Select:
    """The SQL of :func:`load_video_frame` (the same on SQLite and Postgres; recorded in manifests)."""
    v, a, pick = Video.__table__, Author.__table__, _latest_observation_ids(cutoff)
    o = MetricObservation.__table__.alias("latest")
    query = sa.select(
        v.c.id.label("video_id"), v.c.author_id, a.c.handle.label("author_handle"),
        *(o.c[m] for m in METRICS),
        sa.func.coalesce(o.c.author_followers, a.c.followers).label("followers"), a.c.following,
        a.c.account_created_at, a.c.hearts.label("author_hearts"), a.c.video_count.label("author_video_count"),
        a.c.verified.label("author_verified"), a.c.stats_provenance, a.c.account_created_provenance,
        o.c.provenance, o.c.observed_at, o.c.latent_score, o.c.simulator, o.c.sim_seed, o.c.params_hash,
        v.c.create_time, v.c.create_time_provenance, v.c.duration_s, v.c.width, v.c.height, v.c.caption,
        v.c.hashtags, v.c.music_id, v.c.music_title, v.c.music_original, v.c.category, v.c.category_provenance,
        v.c.media_path, v.c.media_sha256, v.c.probe, v.c.verdict, v.c.verdict_reasons, v.c.rules_hash, v.c.first_seen_at,
    ).select_from(
        v.outerjoin(a, a.c.id == v.c.author_id)
        .outerjoin(pick, sa.and_(pick.c.video_id == v.c.id, pick.c.rank == 1))
        .outerjoin(o, o.c.id == pick.c.id)
    )
    if cutoff is not None:
        query = query.where(v.c.first_seen_at <= cutoff)
    if not include_rejected:
        query = query.where(sa.or_(v.c.verdict.is_(None), v.c.verdict == "kept"))
    return query.order_by(v.c.id)


def load_video_frame(engine: Engine, cutoff: datetime | None = None, include_rejected: bool = True) -> pd.DataFrame:
    """One row per video: its latest observation as of ``cutoff`` and its author's fields.

    Videos first seen after ``cutoff`` are left out; ``include_rejected=False``
    keeps only videos the filter kept or has not judged yet. A video without an
    observation has null metrics and a null ``provenance``. Counts are nullable
    Int64, times are UTC timestamps, ``hashtags``/``probe``/``verdict_reasons``
    are Python lists/dicts (or None).
    """
    # the DBAPI's plain tuples, decoded column by column in _typed: several times faster than Row objects
    return _typed(_fetch_frame(engine, video_frame_query(cutoff, include_rejected)))


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Raw driver values to the frame's types (SQLite gives text times, JSON text and 0/1; Postgres objects)."""
    for column in JSON_COLUMNS:
        frame[column] = frame[column].astype(object).map(_json, na_action="ignore")
    for column in COUNT_COLUMNS:
        frame[column] = pd.array(pd.to_numeric(frame[column], errors="coerce"), dtype="Int64")
    for column in TIME_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601").astype("datetime64[us, UTC]")
    for column in ("duration_s", "latent_score"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("width", "height"):
        frame[column] = pd.array(pd.to_numeric(frame[column], errors="coerce"), dtype="Int64")
    for column in ("music_original", "author_verified"):
        frame[column] = frame[column].astype("boolean")
    return frame


def load_simulation_targets(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(authors missing counts or a creation date, videos without any metric observation).

    Authors: ``author_id, needs_stats, needs_created, first_video`` (the earliest
    observed create time of the author's videos, NaT when none). Videos: the simulator's
    inputs — ``video_id, author_id, followers, account_created_at, create_time,
    category, music_original, duration_s`` — with the authors' current values.
    """
    a, v, o = Author.__table__, Video.__table__, MetricObservation.__table__
    first = sa.select(v.c.author_id, sa.func.min(v.c.create_time).label("first_video")).where(
        v.c.create_time.is_not(None), sa.func.coalesce(v.c.create_time_provenance, "observed") != Provenance.SIMULATED.value,
    ).group_by(v.c.author_id).subquery("first")
    authors = sa.select(
        a.c.id.label("author_id"), a.c.stats_provenance.is_(None).label("needs_stats"),
        a.c.account_created_at.is_(None).label("needs_created"), first.c.first_video,
    ).select_from(a.outerjoin(first, first.c.author_id == a.c.id)).where(
        sa.or_(a.c.stats_provenance.is_(None), a.c.account_created_at.is_(None))
    ).order_by(a.c.id)
    has_obs = sa.exists().where(o.c.video_id == v.c.id)
    videos = sa.select(
        v.c.id.label("video_id"), v.c.author_id, a.c.followers, a.c.account_created_at, v.c.create_time,
        v.c.category, v.c.music_original, v.c.duration_s,
    ).select_from(v.outerjoin(a, a.c.id == v.c.author_id)).where(~has_obs).order_by(v.c.id)
    author_frame, video_frame = _fetch_frame(engine, authors), _fetch_frame(engine, videos)
    author_frame["first_video"] = pd.to_datetime(author_frame["first_video"], utc=True, format="ISO8601")
    for column in ("account_created_at", "create_time"):
        video_frame[column] = pd.to_datetime(video_frame[column], utc=True, format="ISO8601")
    video_frame["music_original"] = video_frame["music_original"].astype("boolean")
    return author_frame.astype({"needs_stats": bool, "needs_created": bool}), video_frame


def count_inconsistent_creation(engine: Engine) -> dict[str, int]:
    """What synth cannot use or fix: observed account creations after one of the author's observed videos; videos without an author."""
    a, v = Author.__table__, Video.__table__
    observed_video = sa.func.coalesce(v.c.create_time_provenance, "observed") != Provenance.SIMULATED.value
    late = sa.select(sa.func.count(sa.distinct(a.c.id))).select_from(a.join(v, v.c.author_id == a.c.id)).where(
        a.c.account_created_provenance == Provenance.OBSERVED.value, observed_video, v.c.create_time < a.c.account_created_at,
    )
    no_author = sa.select(sa.func.count()).select_from(v).where(v.c.author_id.is_(None))
    with engine.connect() as conn:
        return {"observed_account_created_after_a_video": int(conn.execute(late).scalar_one()),
                "videos_without_author": int(conn.execute(no_author).scalar_one())}


def _fetch_frame(engine: Engine, query: sa.Select) -> pd.DataFrame:
    """A query's rows as a DataFrame, from the DBAPI's plain tuples (values left as the driver gives them)."""
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame.from_records(result.cursor.fetchall(), columns=list(result.keys()))


def _column_values(values: pd.Series) -> list[Any]:
    """A column as database-ready Python values: native scalars, datetimes, None for NaN/NA/NaT."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return [None if v is pd.NaT else v for v in values.dt.to_pydatetime()]
    return values.astype(object).where(values.notna(), None).tolist()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Executemany parameters: converted column by column, then zipped into one dict per row."""
    columns = list(frame.columns)
    values = [_column_values(frame[c]) for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _run_batches(engine: Engine, statement: Any, rows: list[dict], progress: Progress | None) -> None:
    for batch in batched(rows, BATCH_ROWS):
        with engine.begin() as conn:
            conn.execute(statement, batch)
        if progress:
            progress(len(batch))


def write_simulated_authors(
    engine: Engine, drawn: pd.DataFrame, simulation: Mapping[str, Any], progress: Progress | None = None
) -> dict[str, int]:
    """Stores drawn author values where nothing was observed; returns counts ``stats`` and ``created``.

    ``drawn`` has ``author_id, followers, following, account_created_at, needs_stats,
    needs_created``. Counts are written only where ``stats_provenance`` is still
    NULL and creation dates only where none is stored, so an observed value is
    never replaced, even by a concurrent import.
    """
    a = Author.__table__
    now, sim = utcnow(), dict(simulation)
    stats = drawn[drawn["needs_stats"]]
    created = drawn[drawn["needs_created"]]
    stats_stmt = a.update().where(a.c.id == sa.bindparam("b_id"), a.c.stats_provenance.is_(None)).values(
        followers=sa.bindparam("b_followers"), following=sa.bindparam("b_following"),
        stats_provenance=Provenance.SIMULATED.value, simulation=sa.bindparam("b_sim", type_=a.c.simulation.type),
        updated_at=now,
    )
    created_stmt = a.update().where(a.c.id == sa.bindparam("b_id"), a.c.account_created_at.is_(None)).values(
        account_created_at=sa.bindparam("b_created", type_=a.c.account_created_at.type),
        account_created_provenance=Provenance.SIMULATED.value, updated_at=now,
        simulation=sa.func.coalesce(a.c.simulation, sa.bindparam("b_sim", type_=a.c.simulation.type)),
    )
    stats_rows = _records(stats[["author_id", "followers", "following"]].set_axis(["b_id", "b_followers", "b_following"], axis=1))
    created_rows = _records(created[["author_id", "account_created_at"]].set_axis(["b_id", "b_created"], axis=1))
    for row in (*stats_rows, *created_rows):
        row["b_sim"] = sim
    _run_batches(engine, stats_stmt, stats_rows, progress)
    _run_batches(engine, created_stmt, created_rows, progress)
    return {"stats": len(stats_rows), "created": len(created_rows)}


def write_simulated_videos(
    engine: Engine, drawn: pd.DataFrame, simulation: Mapping[str, Any], source: str, progress: Progress | None = None
) -> dict[str, int]:
    """Adds one simulated observation per drawn video and fills missing create times and categories.

    ``drawn`` is :func:`synth.simulate_videos`'s output plus ``create_time_missing``.
    ``simulation`` holds ``simulator, simulator_version, sim_seed, params_hash``.
    Observations are keyed by (video, provenance, fingerprint of the counts and the
    simulation), so writing the same draw twice adds nothing. Returns counts
    ``observations``, ``create_times`` and ``categories``.
    """
    now = utcnow()
    rows = _observation_rows(drawn, simulation, source, now)
    obs = MetricObservation.__table__
    added = 0
    for batch in batched(rows, BATCH_ROWS):
        with engine.begin() as conn:
            added += insert_new(conn, obs, batch, key=["video_id", "provenance", "fingerprint"])
        if progress:
            progress(len(batch))
    return {"observations": added, **_fill_video_gaps(engine, drawn)}


def _fill_video_gaps(engine: Engine, drawn: pd.DataFrame) -> dict[str, int]:
    """Drawn create times and (planted mode) categories, where the video has none."""
    v = Video.__table__
    times = drawn[drawn["create_time_missing"]][["video_id", "create_time"]].set_axis(["b_id", "b_time"], axis=1)
    cats = drawn[drawn["category_simulated"]][["video_id", "category"]].set_axis(["b_id", "b_category"], axis=1)
    time_stmt = v.update().where(v.c.id == sa.bindparam("b_id"), v.c.create_time.is_(None)).values(
        create_time=sa.bindparam("b_time", type_=v.c.create_time.type), create_time_provenance=Provenance.SIMULATED.value,
    )
    cat_stmt = v.update().where(v.c.id == sa.bindparam("b_id"), v.c.category.is_(None)).values(
        category=sa.bindparam("b_category"), category_provenance=Provenance.SIMULATED.value,
    )
    _run_batches(engine, time_stmt, _records(times), None)
    _run_batches(engine, cat_stmt, _records(cats), None)
    return {"create_times": len(times), "categories": len(cats)}


def _observation_rows(drawn: pd.DataFrame, simulation: Mapping[str, Any], source: str, now: datetime) -> list[dict]:
    counts = drawn[["video_id", *METRICS, "followers", "latent_score"]].rename(columns={"followers": "author_followers"})
    rows = _records(counts)
    identity = (simulation["simulator"], simulation["simulator_version"], simulation["sim_seed"], simulation["params_hash"])
    for row in rows:
        values = [row[m] for m in (*METRICS, "author_followers")]
        row.update(
            observed_at=now, provenance=Provenance.SIMULATED.value, source=source,
            simulator=identity[0], simulator_version=identity[1], sim_seed=identity[2], params_hash=identity[3],
            fingerprint=metric_fingerprint([*values, *identity]),
        )
    return rows
