"""Downloading media for catalogued videos: claimed from the catalog, fetched by worker processes, recorded.

The coordinator claims a few videos at a time (row locks on Postgres, so several
``curate download`` processes share the work), hands them to worker processes
(:mod:`scrapers.fetcher`: yt-dlp and the media checks are CPU work, which threads
would serialise on one core) and records the outcomes in batches. A failed video is
a row with a reason, retried on a later run; an interrupted run frees its claims.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from db.download_jobs import DownloadJob, DownloadOutcome
from db.downloads import LEASE, claim, forget_missing_files, record, release
from db.types import utcnow
from scrapers.fetcher import SCRATCH, DownloadOptions, MediaDownloader, fetch_in_worker, start_worker

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: outcomes are written to the catalog in batches of this size
RECORD_BATCH = 32
#: what a worker process imports before it forks (the parts that take a second to import)
WORKER_PRELOAD = ["scrapers.fetcher", "yt_dlp", "av"]


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


def worker_name() -> str:
    """A name for this process's claims: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def download_media(
    engine: Engine, home: Path, options: DownloadOptions, on_outcome: Callable[[DownloadOutcome], None] | None = None
) -> DownloadSummary:
    """Claims and downloads catalogued videos until none is left (or ``options.limit``); returns the counts."""
    (home / "media").mkdir(parents=True, exist_ok=True)
    _sweep_scratch(home / "media" / SCRATCH)
    forget_missing_files(engine, home)
    run = _DownloadRun(engine, options, utcnow(), on_outcome)
    try:
        with _pool(home, options) as (pool, fetch):
            return run.run(pool, fetch)
    finally:
        release(engine, run.worker)
        # each worker empties its own folder; another process's may still be in use
        with contextlib.suppress(OSError):
            (home / "media" / SCRATCH).rmdir()


def _sweep_scratch(scratch: Path) -> None:
    """Removes worker folders left by processes that died (untouched for longer than a claim's lease)."""
    if not scratch.is_dir():
        return
    cutoff = time.time() - LEASE.total_seconds()
    for folder in scratch.iterdir():
        with contextlib.suppress(OSError):
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _pool(home: Path, options: DownloadOptions) -> Iterator[tuple[Executor, Callable[[DownloadJob], DownloadOutcome]]]:
    """Worker processes (yt-dlp and the checks are CPU work: threads would share one core); one worker runs here."""
    if options.workers <= 1:
        with ThreadPoolExecutor(1, thread_name_prefix="download") as pool:
            yield pool, MediaDownloader(home, options).fetch
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    pool = ProcessPoolExecutor(options.workers, mp_context=context, initializer=start_worker, initargs=(str(home), options))
    try:
        yield pool, fetch_in_worker
    except BaseException:
        _stop_workers(pool, home)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool: ProcessPoolExecutor, home: Path) -> None:
    """Ends the workers at once (Ctrl-C, a failure) and removes what they were writing.

    Workers ignore SIGINT (the coordinator decides), and an abandoned worker would
    wait on its queue forever: they are terminated. Python 3.14 has
    ``terminate_workers()``; here the executor's process table is the only handle.
    """
    processes = dict(getattr(pool, "_processes", None) or {})
    for process in processes.values():
        with contextlib.suppress(Exception):
            process.terminate()
    for pid, process in processes.items():
        with contextlib.suppress(Exception):
            process.join(timeout=5)
        shutil.rmtree(home / "media" / SCRATCH / f"{socket.gethostname()}-{pid}", ignore_errors=True)


class _DownloadRun:
    """The coordinator: keeps the workers fed with claimed jobs and records outcomes in batches."""

    def __init__(self, engine: Engine, options: DownloadOptions, since: datetime, on_outcome) -> None:
        self.engine, self.options, self.since = engine, options, since
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

    def run(self, pool: Executor, fetch: Callable[[DownloadJob], DownloadOutcome]) -> DownloadSummary:
        """Claims a few jobs ahead of the workers, collects outcomes, records them in batches."""
        ahead = 2 * max(1, self.options.workers)
        pending: set[Future[DownloadOutcome]] = set()
        more = True
        try:
            while True:
                if more and len(pending) < ahead:
                    jobs = self._claim_more(ahead - len(pending))
                    more = bool(jobs)
                    pending |= {pool.submit(fetch, job) for job in jobs}
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
