"""Downloading media with yt-dlp: claimed from the catalog, checked, renamed into ``media/``.

Each job is fetched by yt-dlp into a private scratch folder — the video page on
the real site (its TikTok extractor finds the file and the cookies it needs), the
media URL anywhere else (the generic extractor). The file is checked
(:func:`scrapers.media.check_media`) and only then renamed into
``media/<video_id>.<ext>``, so ``media/`` never holds a partial or bogus file. A
failed job becomes an outcome with a reason, never an exception that stops the run.
Worker threads each keep one ``YoutubeDL``; the coordinator claims a few jobs at a
time, so several processes on one Postgres catalog share the work.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.records import is_valid_video_id
from db.downloads import DownloadJob, DownloadOutcome, claim, forget_missing_files, record, release
from db.types import utcnow
from scrapers.media import MediaRejected, check_media

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: scratch folder inside media/ (same filesystem, so the final rename is atomic)
SCRATCH = ".partial"
#: outcomes are written to the catalog in batches of this size
RECORD_BATCH = 32


@dataclass(frozen=True)
class DownloadOptions:
    """How to download: the URL to prefer, concurrency, limits, network settings."""

    workers: int = 4
    limit: int | None = None
    retry_failed: bool = False
    proxy: str | None = None
    #: a Cookie header value or a path to a Netscape cookies.txt
    cookies: str | None = None
    timeout: float = 30.0


@dataclass
class DownloadSummary:
    """What a download run did."""

    downloaded: int = 0
    already_present: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    bytes: int = 0

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
        return {"downloaded": self.downloaded, "already_present": self.already_present, "failed": dict(self.failed), "bytes": self.bytes}


class MediaDownloader:
    """Fetches one job at a time per thread with yt-dlp and checks the file before storing it."""

    def __init__(self, home: Path, options: DownloadOptions) -> None:
        self.home, self.options = home, options
        self.media_dir = home / "media"
        self._local = threading.local()

    def _ydl(self, scratch: Path) -> Any:
        ydl = getattr(self._local, "ydl", None)
        if ydl is None:
            ydl = self._local.ydl = _new_ytdl(scratch, self.options)
        return ydl

    def fetch(self, job: DownloadJob) -> DownloadOutcome:
        """Downloads, checks and stores one video; any failure becomes the outcome's reason."""
        if not is_valid_video_id(job.video_id):
            return DownloadOutcome(job.video_id, error="bad_id: not a platform id")
        present = self._present(job.video_id)
        if present is not None:
            return present
        url = self._url(job)
        if url is None:
            return DownloadOutcome(job.video_id, error="no_url: the catalog has no page or media URL")
        scratch = self.media_dir / SCRATCH / f"{os.getpid()}-{threading.get_ident()}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            return self._store(job.video_id, self._download(scratch, url))
        except MediaRejected as exc:
            return DownloadOutcome(job.video_id, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a failed sample is a row with a reason, never a dead run
            return DownloadOutcome(job.video_id, error=_reason(exc))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    @staticmethod
    def _url(job: DownloadJob) -> str | None:
        # the real site: its page (yt-dlp's extractor finds fresh media links and cookies); elsewhere the media URL
        first, second = (job.media_url, job.url) if job.base_url else (job.url, job.media_url)
        return first or second

    def _download(self, scratch: Path, url: str) -> Path:
        self._ydl(scratch).extract_info(url, download=True)
        files = [p for p in scratch.iterdir() if p.is_file() and not p.name.endswith((".part", ".ytdl"))]
        if not files:
            raise MediaRejected("no_file", "yt-dlp wrote nothing")
        return files[0]

    def _store(self, video_id: str, path: Path) -> DownloadOutcome:
        facts = check_media(path)
        final = self.media_dir / f"{video_id}.{facts.ext}"
        os.replace(path, final)
        return DownloadOutcome(video_id, str(final.relative_to(self.home)), facts.sha256, facts.size)

    def _present(self, video_id: str) -> DownloadOutcome | None:
        """A file already in media/ (a run that stored it but died before recording it)."""
        for path in self.media_dir.glob(f"{video_id}.*"):
            try:
                facts = check_media(path)
            except MediaRejected:
                path.unlink(missing_ok=True)
                continue
            return DownloadOutcome(video_id, str(path.relative_to(self.home)), facts.sha256, facts.size, already_present=True)
        return None


def _new_ytdl(scratch: Path, options: DownloadOptions) -> Any:
    from yt_dlp import YoutubeDL

    params: dict[str, Any] = {
        "quiet": True, "no_warnings": True, "noprogress": True, "noplaylist": True, "overwrites": True,
        "cachedir": False, "socket_timeout": options.timeout, "retries": 2, "logger": _SilentLogger(),
        "outtmpl": {"default": str(scratch / "media.%(ext)s")},
    }
    if options.proxy:
        params["proxy"] = options.proxy
    if options.cookies:
        if Path(options.cookies).is_file():
            params["cookiefile"] = options.cookies
        else:
            params["http_headers"] = {"Cookie": options.cookies}
    return YoutubeDL(params)


class _SilentLogger:
    """yt-dlp's messages go nowhere: errors come back as exceptions, with URLs that may carry tokens."""

    def debug(self, msg: str) -> None:  # noqa: D102
        pass

    info = warning = error = debug


_HTTP = re.compile(r"HTTP Error (\d{3})")


def _reason(exc: Exception) -> str:
    """A short reason for a failed download (``http_404``, ``truncated``, ``unsupported`` …)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).replace("ERROR: ", "")
    if m := _HTTP.search(text):
        return f"http_{m.group(1)}: {text[:160]}"
    lowered = text.lower()
    for needle, reason in (
        ("unsupported url", "unsupported"), ("more expected", "truncated"), ("did not get any data", "empty_file"),
        ("timed out", "timeout"), ("connection", "connection"), ("private", "private"), ("not available", "unavailable"),
    ):
        if needle in lowered:
            return f"{reason}: {text[:160]}"
    return f"download_error: {text[:160]}"


def worker_name() -> str:
    """A name for this process's claims: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def download_media(
    engine: Engine, home: Path, options: DownloadOptions, on_outcome: Callable[[DownloadOutcome], None] | None = None
) -> DownloadSummary:
    """Claims and downloads catalogued videos until none is left (or ``options.limit``); returns the counts."""
    (home / "media").mkdir(parents=True, exist_ok=True)
    forget_missing_files(engine, home)
    run = _DownloadRun(engine, MediaDownloader(home, options), options, utcnow(), on_outcome)
    try:
        return run.run()
    finally:
        release(engine, run.worker)
        shutil.rmtree(home / "media" / SCRATCH, ignore_errors=True)


class _DownloadRun:
    """The coordinator: keeps the workers fed with claimed jobs and records outcomes in batches."""

    def __init__(self, engine: Engine, downloader: MediaDownloader, options: DownloadOptions, since: datetime, on_outcome) -> None:
        self.engine, self.downloader, self.options, self.since = engine, downloader, options, since
        self.on_outcome = on_outcome
        self.worker = worker_name()
        self.summary = DownloadSummary()
        self._claimed = 0
        self._buffer: list[DownloadOutcome] = []

    def _claim_more(self, free: int) -> list[DownloadJob]:
        want = free if self.options.limit is None else min(free, self.options.limit - self._claimed)
        if want <= 0:
            return []
        jobs = claim(self.engine, self.worker, want, self.since, self.options.retry_failed)
        self._claimed += len(jobs)
        return jobs

    def run(self) -> DownloadSummary:
        workers = max(1, self.options.workers)
        pending: set[Future[DownloadOutcome]] = set()
        more = True
        with ThreadPoolExecutor(workers, thread_name_prefix="download") as pool:
            try:
                while True:
                    if more and len(pending) < 2 * workers:
                        jobs = self._claim_more(2 * workers - len(pending))
                        more = bool(jobs)
                        pending |= {pool.submit(self.downloader.fetch, job) for job in jobs}
                    if not pending:
                        break
                    done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                    for future in done:
                        self._collect(future.result())
                    self._flush(force=not done)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
            finally:
                self._flush(force=True)
        return self.summary

    def _collect(self, outcome: DownloadOutcome) -> None:
        self.summary.add(outcome)
        self._buffer.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _flush(self, force: bool) -> None:
        if self._buffer and (force or len(self._buffer) >= RECORD_BATCH):
            record(self.engine, self._buffer)
            self._buffer = []
