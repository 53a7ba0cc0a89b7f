"""The records of download work, without the database: what a worker is given and what it hands back.

Kept apart from ``db.downloads`` so that download worker processes start without
importing SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DownloadJob:
    """A video to download: its id and the URLs it can be had from."""

    video_id: str
    url: str | None
    media_url: str | None
    #: the site the video was crawled from when not the real one (a sandbox), else None
    base_url: str | None = None


@dataclass(frozen=True, slots=True)
class DownloadOutcome:
    """What became of a job: a stored file (path relative to the data folder, sha256, size) or an error."""

    video_id: str
    media_path: str | None = None
    sha256: str | None = None
    size: int | None = None
    error: str | None = None
    #: the file was already in media/ and only had to be recorded
    already_present: bool = False

    @property
    def ok(self) -> bool:
        """True when a file was stored."""
        return self.error is None and self.media_path is not None
