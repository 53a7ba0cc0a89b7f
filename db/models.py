"""The catalog's tables.

One row per author and per video, one row per metric observation (metrics change
over time; a snapshot takes the latest one as of its cut-off), the crawl's graph
and resumable state, and the registry of frozen snapshots. Schema changes go
through the migrations in ``db/migrations``; these models are what they build.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.types import Count, JSONType, UTCDateTime, utcnow


def _when(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _count() -> Any:
    return Field(default=None, sa_type=Count)


def _json() -> Any:
    return Field(default=None, sa_type=JSONType)


class Author(SQLModel, table=True):
    """An account, with its counts as last observed (or simulated, per ``stats_provenance``)."""

    __tablename__ = "author"

    id: str = Field(primary_key=True, max_length=32)
    handle: str | None = Field(default=None, index=True)
    nickname: str | None = None
    sec_uid: str | None = None
    followers: int | None = _count()
    following: int | None = _count()
    hearts: int | None = _count()
    video_count: int | None = _count()
    verified: bool | None = None
    account_created_at: datetime | None = _when(default=None)
    #: observed | simulated | None (no counts known)
    stats_provenance: str | None = Field(default=None, max_length=16)
    #: observed | simulated | None
    account_created_provenance: str | None = Field(default=None, max_length=16)
    #: simulator name, version, seed and parameter hash when anything here is simulated
    simulation: dict | None = _json()
    first_seen_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)


class Video(SQLModel, table=True):
    """A video: what its payload said, its media, its probe facts and its curation verdict."""

    __tablename__ = "video"

    id: str = Field(primary_key=True, max_length=32)
    author_id: str | None = Field(default=None, foreign_key="author.id", index=True, max_length=32)
    caption: str | None = None
    hashtags: list | None = _json()
    create_time: datetime | None = _when(default=None)
    #: observed | simulated | None; `curate synth` draws a create time only where none was observed
    create_time_provenance: str | None = Field(default=None, max_length=16)
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    music_id: str | None = None
    music_title: str | None = None
    music_original: bool | None = None
    url: str | None = None
    media_url: str | None = None
    #: the payload the row was parsed from, so that a parser fix can re-parse without re-crawling
    raw: dict | None = _json()
    source_format: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=32)
    category_provenance: str | None = Field(default=None, max_length=16)
    first_seen_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)
    # media, filled by `curate download`
    media_path: str | None = None
    #: the id of the media root the file was stored in (``MEDIA_ROOT/.media-root``), so that a worker
    #: that does not see that root says so instead of taking the file for deleted
    media_root: str | None = Field(default=None, max_length=32)
    media_sha256: str | None = Field(default=None, index=True, max_length=64)
    media_size: int | None = _count()
    downloaded_at: datetime | None = _when(default=None)
    download_error: str | None = None
    download_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    claimed_by: str | None = None
    claimed_at: datetime | None = _when(default=None)
    # probe facts, filled by `curate probe`
    probe: dict | None = _json()
    probed_sha256: str | None = Field(default=None, max_length=64)
    probed_at: datetime | None = _when(default=None)
    # curation verdict, filled by `curate filter`: kept | rejected
    verdict: str | None = Field(default=None, max_length=16, index=True)
    verdict_reasons: list | None = _json()
    rules_hash: str | None = Field(default=None, max_length=64)
    filtered_at: datetime | None = _when(default=None)
    # noticed gone by `curate refresh` (deleted, private, withheld): when, and the platform's reason
    gone_at: datetime | None = _when(default=None)
    gone_reason: str | None = Field(default=None, max_length=32)


class MetricObservation(SQLModel, table=True):
    """Counts for one video at one moment, observed on the platform or simulated."""

    __tablename__ = "metric_observation"
    __table_args__ = (
        sa.UniqueConstraint("video_id", "provenance", "fingerprint", name="uq_observation_values"),
        sa.Index("ix_observation_video_time", "video_id", "observed_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=Count)
    video_id: str = Field(foreign_key="video.id", max_length=32)
    observed_at: datetime = _when(default_factory=utcnow)
    plays: int | None = _count()
    likes: int | None = _count()
    comments: int | None = _count()
    shares: int | None = _count()
    saves: int | None = _count()
    author_followers: int | None = _count()
    #: observed | simulated
    provenance: str = Field(max_length=16, index=True)
    simulator: str | None = None
    simulator_version: str | None = None
    sim_seed: int | None = _count()
    params_hash: str | None = Field(default=None, max_length=64)
    #: planted-signal mode only: the true latent score; never a model feature
    latent_score: float | None = None
    #: what wrote it: "import:<format>", "crawl:<run id>", "synth:<preset>"
    source: str | None = None
    #: digest of the counts, so that the same values are never stored twice
    fingerprint: str = Field(max_length=40)


class CrawlRun(SQLModel, table=True):
    """One crawl: its parameters, its resumable state, its counters and how it ended."""

    __tablename__ = "crawl_run"

    id: int | None = Field(default=None, primary_key=True, sa_type=Count)
    started_at: datetime = _when(default_factory=utcnow)
    finished_at: datetime | None = _when(default=None)
    #: running | finished | blocked | interrupted | failed
    status: str = Field(default="running", max_length=16, sa_column_kwargs={"server_default": "running"})
    stop_reason: str | None = None
    source: str | None = None
    base_url: str | None = None
    params: dict | None = _json()
    state: dict | None = _json()
    stats: dict | None = _json()


class CrawlItem(SQLModel, table=True):
    """A video's membership in a crawl: its depth, the order it joined and whether it was expanded."""

    __tablename__ = "crawl_item"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "seq", name="uq_crawl_item_seq"),
        # a video's smallest depth over all crawls, looked up per video (the web page's depth facet)
        sa.Index("ix_crawl_item_video_depth", "video_id", "depth"),
    )

    run_id: int = Field(foreign_key="crawl_run.id", primary_key=True, sa_type=Count)
    video_id: str = Field(foreign_key="video.id", primary_key=True, max_length=32)
    seq: int = Field(sa_type=Count)
    depth: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    parent_id: str | None = Field(default=None, max_length=32)
    expanded_at: datetime | None = _when(default=None)


class Edge(SQLModel, table=True):
    """Discovery graph: ``child`` was found among the related videos of ``parent``."""

    __tablename__ = "edge"

    run_id: int = Field(foreign_key="crawl_run.id", primary_key=True, sa_type=Count)
    parent_id: str = Field(foreign_key="video.id", primary_key=True, max_length=32)
    child_id: str = Field(foreign_key="video.id", primary_key=True, max_length=32)
    #: the child's depth in this crawl
    depth: int = 0
    discovered_at: datetime = _when(default_factory=utcnow)


class Snapshot(SQLModel, table=True):
    """A frozen, versioned dataset written under ``snapshots/NAME/vN``."""

    __tablename__ = "snapshot"
    __table_args__ = (sa.UniqueConstraint("name", "version", name="uq_snapshot_version"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=Count)
    name: str = Field(max_length=64, index=True)
    version: int
    parent_version: int | None = None
    fingerprint: str = Field(max_length=64)
    created_at: datetime = _when(default_factory=utcnow)
    path: str
    manifest: dict | None = _json()


class ApiQuota(SQLModel, table=True):
    """What an API's daily quota has spent on one UTC day, so that a resumed run knows what is left."""

    __tablename__ = "api_quota"

    #: which API and where (``research_api@https://open.tiktokapis.com``); never a credential
    api: str = Field(primary_key=True, max_length=64)
    #: the UTC day, YYYYMMDD (the day of the API's own clock, from its Date header)
    day: str = Field(primary_key=True, max_length=8)
    requests: int = Field(default=0, sa_type=Count, sa_column_kwargs={"server_default": "0"})
    records: int = Field(default=0, sa_type=Count, sa_column_kwargs={"server_default": "0"})
    #: the API answered 429 that day: nothing more until its reset at 00:00 UTC
    exhausted: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    updated_at: datetime = _when(default_factory=utcnow)


class CatalogMeta(SQLModel, table=True):
    """Catalog-wide settings: the pseudonymisation secret, the catalog's id."""

    __tablename__ = "catalog_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str


class WorkClaim(SQLModel, table=True):
    """A unit of a stage's work (a probe of one file, an extraction of one input) claimed by one worker.

    ``claimed_by`` is ``host:pid:tag``; a claim is free again when its lease expires or,
    on the same host, at once when its process is gone. ``finished_at`` with no
    ``error`` is done; with an error, a later run may retry it.
    """

    __tablename__ = "work_claim"

    stage: str = Field(primary_key=True, max_length=96)
    key: str = Field(primary_key=True, max_length=160)
    claimed_by: str | None = Field(default=None, index=True)
    claimed_at: datetime | None = _when(default=None)
    finished_at: datetime | None = _when(default=None)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    error: str | None = None


class VerdictOverride(SQLModel, table=True):
    """A verdict set by hand in ``curate serve --allow-writes``: who, when, what the rules had said."""

    __tablename__ = "verdict_override"

    id: int | None = Field(default=None, primary_key=True, sa_type=Count)
    video_id: str = Field(foreign_key="video.id", index=True, max_length=32)
    #: kept | rejected
    verdict: str = Field(max_length=16)
    #: the rules' verdict and reasons when the override was made
    rule_verdict: str | None = Field(default=None, max_length=16)
    rule_reasons: list | None = _json()
    note: str | None = None
    made_by: str = Field(max_length=64)
    made_at: datetime = _when(default_factory=utcnow)


class MediaFingerprint(SQLModel, table=True):
    """Perceptual hashes of a media file's sampled frames, keyed by its sha256 (same bytes, computed once)."""

    __tablename__ = "media_fingerprint"

    media_sha256: str = Field(primary_key=True, max_length=64)
    #: how the hashes were made, e.g. ``dhash64x8``; a new method is a new computation
    method: str = Field(max_length=32)
    #: one 64-bit dHash per sampled frame, as 16 hex characters
    frame_hashes: list | None = _json()
    #: why no hashes could be made (unreadable file), else None
    error: str | None = None
    computed_at: datetime = _when(default_factory=utcnow)
