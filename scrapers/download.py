"""Downloading media for catalogued videos: claimed from the catalog, fetched by the distributor's workers, recorded.

The coordinator claims videos as the distributor (:mod:`core.distribute`) asks for
more work (row locks on Postgres, so several ``curate download`` processes or
machines share the work), the workers (:class:`scrapers.fetcher.MediaDownloader`,
in local processes or Ray tasks: yt-dlp and the media checks are CPU work, which
threads would serialise on one core) fetch and check, and the outcomes are
recorded in batches as they come. A failed video is a row with a reason, retried
on a later run; a worker that dies is a row with a reason too; an interrupted run
frees its claims, and a killed one's claims are taken over by the next run at once.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.distribute import Done, EngineSettings, make_distributor
from core.media_root import root_id
from db.claims import LEASE, is_dead, worker_name
from db.download_jobs import DownloadJob, DownloadOutcome
from db.downloads import check_media_files, claim, record, release
from db.types import utcnow
from scrapers.fetcher import SCRATCH, DownloadOptions, MediaDownloader

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: outcomes are written to the catalog in batches of this size, or after this many seconds
RECORD_BATCH = 32
RECORD_EVERY_S = 1.0
#: what a worker process imports before it forks (the parts that take a second to import)
WORKER_PRELOAD = ["scrapers.fetcher", "yt_dlp", "av"]
#: videos per Ray task (a local worker process takes one at a time)
RAY_SHARD = 4


@dataclass
class DownloadSummary:
    """What a download run did."""

    downloaded: int = 0
    already_present: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    #: catalogued files this worker cannot see because they were stored in another media root
    elsewhere: int = 0
    #: catalogued files gone from this media root, forgotten so that they are downloaded again
    forgotten: int = 0

    def add(self, outcome: DownloadOutcome) -> None:
        """Counts one outcome."""
        if outcome.already_present:
            self.already_present += 1
        elif outcome.ok:
            self.downloaded += 1
            self.bytes += outcome.size or 0
        else:
            self.failed[(outcome.error or "error").split(":", 1)[0]] += 1

    def as_dict(self) -> dict[str, Any]:
        """The shape ``curate download --json`` prints."""
        return {"downloaded": self.downloaded, "already_present": self.already_present, "failed": dict(self.failed),
                "bytes": self.bytes, "elsewhere": self.elsewhere, "forgotten": self.forgotten}


def download_media(
    engine: Engine, home: Path, options: DownloadOptions, on_outcome: Callable[[DownloadOutcome], None] | None = None,
    media_root: Path | None = None, downloader: type[MediaDownloader] = MediaDownloader,
) -> DownloadSummary:
    """Claims and downloads catalogued videos until none is left (or ``options.limit``); returns the counts.

    Files go into ``media_root`` (default ``home/media``) and are recorded with that root's id;
    ``downloader`` is the worker class (a subclass of MediaDownloader, e.g. in a test).
    """
    root = media_root or home / "media"
    identity = root_id(root)
    _sweep_scratch(root / SCRATCH)
    forgotten, elsewhere = check_media_files(engine, root, identity)
    run = _DownloadRun(engine, options, utcnow(), on_outcome, identity)
    run.summary.forgotten, run.summary.elsewhere = forgotten, elsewhere
    shard = options.shard_size or (RAY_SHARD if options.engine == "ray" else 1)
    distributor = make_distributor(EngineSettings(options.engine, options.workers, options.ray_address, shard), WORKER_PRELOAD)
    try:
        return run.run(distributor.map_unordered(downloader(root, options), run.jobs(distributor.workers)))
    finally:
        release(engine, run.worker)
        _sweep_scratch(root / SCRATCH)
        # each worker empties its own folder; another process's may still be in use
        with contextlib.suppress(OSError):
            (root / SCRATCH).rmdir()


def _sweep_scratch(scratch: Path) -> None:
    """Removes worker folders left by processes that died: on this host at once, elsewhere after a lease."""
    if not scratch.is_dir():
        return
    cutoff = time.time() - LEASE.total_seconds()
    here = socket.gethostname()
    for folder in scratch.iterdir():
        host, _, pid = folder.name.rpartition("-")
        with contextlib.suppress(OSError):
            if (host == here and pid.isdigit() and is_dead(f"{host}:{pid}:")) or folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


class _DownloadRun:
    """The coordinator: claims jobs as the workers ask for them and records outcomes in batches."""

    def __init__(self, engine: Engine, options: DownloadOptions, since: datetime, on_outcome, identity: str) -> None:
        self.engine, self.options, self.since = engine, options, since
        self.on_outcome = on_outcome
        self.identity = identity
        self.worker = worker_name()
        self.summary = DownloadSummary()
        self._claimed = 0
        self._buffer: list[DownloadOutcome] = []
        self._flushed_at = time.monotonic()

    def jobs(self, workers: int) -> Iterator[DownloadJob]:
        """Claimed jobs, a few at a time, as the distributor pulls them (until none is left or the limit)."""
        while True:
            want = max(1, workers) if self.options.limit is None else min(max(1, workers), self.options.limit - self._claimed)
            if want <= 0:
                return
            jobs = claim(self.engine, self.worker, want, self.since, self.options.retry_failed)
            if not jobs:
                return
            self._claimed += len(jobs)
            yield from jobs

    def run(self, results: Iterator[Done[DownloadJob, DownloadOutcome]]) -> DownloadSummary:
        """Collects each job's outcome (a crashed worker's job is a failure with the reason) and records them."""
        try:
            for done in results:
                self._collect(done.result if done.ok else DownloadOutcome(done.unit.video_id, error=done.error))
                self._flush(force=False)
        finally:
            self._flush(force=True)
        return self.summary

    def _collect(self, outcome: DownloadOutcome) -> None:
        self.summary.add(outcome)
        self._buffer.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _flush(self, force: bool) -> None:
        due = len(self._buffer) >= RECORD_BATCH or time.monotonic() - self._flushed_at >= RECORD_EVERY_S
        if self._buffer and (force or due):
            record(self.engine, self._buffer, self.identity)
            self._buffer = []
            self._flushed_at = time.monotonic()
