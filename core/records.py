"""Record types passed between the stages: what a parsed payload yields.

They are plain frozen dataclasses so that a scraper, the importer and the tests
can build them without a database; ``db`` turns them into catalog rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

VIDEO_ID_PATTERN = re.compile(r"^[0-9]{1,32}$")


class Provenance(StrEnum):
    """Where a metric value came from."""

    OBSERVED = "observed"
    SIMULATED = "simulated"


def is_valid_video_id(value: str) -> bool:
    """True when ``value`` is a platform id we accept: 1–32 ASCII digits (it becomes a file name)."""
    return isinstance(value, str) and VIDEO_ID_PATTERN.match(value) is not None


@dataclass(frozen=True, slots=True)
class AuthorRecord:
    """An account as one payload described it; ``None`` means the payload did not say."""

    id: str
    handle: str | None = None
    nickname: str | None = None
    sec_uid: str | None = None
    followers: int | None = None
    following: int | None = None
    hearts: int | None = None
    video_count: int | None = None
    verified: bool | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MetricRecord:
    """Counts for one video at one moment, with the author's followers at that moment."""

    plays: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    author_followers: int | None = None

    def is_empty(self) -> bool:
        """True when the payload carried no count at all."""
        return all(
            v is None
            for v in (self.plays, self.likes, self.comments, self.shares, self.saves, self.author_followers)
        )

    def has_engagement(self) -> bool:
        """True when the payload carried at least one of the video's own counts (not only followers)."""
        return any(v is not None for v in (self.plays, self.likes, self.comments, self.shares, self.saves))


@dataclass(frozen=True, slots=True)
class VideoRecord:
    """A video's descriptive fields; only ``id`` is guaranteed."""

    id: str
    author_id: str | None = None
    author_handle: str | None = None
    caption: str | None = None
    hashtags: tuple[str, ...] = ()
    create_time: datetime | None = None
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    music_id: str | None = None
    music_title: str | None = None
    music_original: bool | None = None
    url: str | None = None
    media_url: str | None = None
    #: the platform's own content label (``diversificationLabels``), lower-cased
    category: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """Everything one payload record yields, with the raw payload kept for re-parsing."""

    video: VideoRecord
    author: AuthorRecord | None
    metrics: MetricRecord | None
    raw: dict[str, Any]
    source_format: str
    missing: tuple[str, ...] = field(default=())
    #: what the payload held but the record could not keep, as countable reasons (``author_id_too_long``)
    dropped: tuple[str, ...] = field(default=())


@dataclass
class RecordColumns:
    """A batch of table rows parsed column by column: what a list of ``ParsedItem`` holds, as columns.

    ``video``, ``author`` and ``metrics`` map the fields of VideoRecord, AuthorRecord
    and MetricRecord to one value per kept row (``author["id"]`` is None where a row
    names no author); ``raw`` is each kept row as read, or ``raw_json`` the same rows
    already written as JSON text (a CSV's, built on whole columns). ``positions`` are the kept
    rows' places among the ``rows`` read and ``errors`` the skipped ones with why,
    so that :meth:`items` gives the records in the file's order.
    """

    video: dict[str, list[Any]]
    author: dict[str, list[Any]]
    metrics: dict[str, list[Any]]
    raw: list[dict[str, Any]] | None
    source_format: str
    rows: int = 0
    positions: list[int] = field(default_factory=list)
    errors: list[tuple[int, Exception]] = field(default_factory=list)
    raw_json: list[str] | None = None
    #: values kept rows held but could not keep: reason (``bad_create_time``…) → the kept rows' indices
    dropped: dict[str, list[int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.positions)

    def raw_rows(self) -> list[dict[str, Any]]:
        """Each kept row as read (decoded from ``raw_json`` where the batch holds the text)."""
        if self.raw is not None:
            return self.raw
        import orjson

        return [orjson.loads(text) for text in self.raw_json or ()]

    def skipped(self) -> dict[str, int]:
        """The rows left out, by reason."""
        counts: dict[str, int] = {}
        for _, error in self.errors:
            reason = getattr(error, "reason", type(error).__name__)
            counts[reason] = counts.get(reason, 0) + 1
        return counts

    def engaged(self) -> list[bool]:
        """Per kept row: whether it carries one of the video's own counts (plays, likes, comments, shares, saves)."""
        own = [self.metrics[f] for f in ("plays", "likes", "comments", "shares", "saves")]
        return [any(v is not None for v in values) for values in zip(*own, strict=True)]

    def dropped_counts(self) -> dict[str, int]:
        """The values dropped from kept rows, by reason."""
        return {reason: len(rows) for reason, rows in self.dropped.items() if rows}

    def items(self) -> list[ParsedItem | Exception]:
        """The rows as records, in the file's order: a ``ParsedItem`` per kept row, the error of each skipped one."""
        names = [list(self.video), list(self.author), list(self.metrics)]
        dropped: dict[int, tuple[str, ...]] = {}
        for reason, rows in self.dropped.items():
            for i in rows:
                dropped[i] = (*dropped.get(i, ()), reason)
        out: list[Any] = [None] * self.rows
        for at, error in self.errors:
            out[at] = error
        raw = self.raw_rows()
        values = zip(zip(*self.video.values()), zip(*self.author.values()), zip(*self.metrics.values()), strict=True)
        for i, (at, (video, author, metrics)) in enumerate(zip(self.positions, values, strict=True)):
            a = AuthorRecord(**dict(zip(names[1], author, strict=True))) if author[0] is not None else None
            m = MetricRecord(**dict(zip(names[2], metrics, strict=True)))
            out[at] = ParsedItem(video=VideoRecord(**dict(zip(names[0], video, strict=True))), author=a,
                                 metrics=None if m.is_empty() else m, raw=raw[i], source_format=self.source_format,
                                 dropped=dropped.get(i, ()))
        return [o for o in out if o is not None]
