"""Probing many files on local processes: picklable per-chunk workers, results as they finish.

A file that makes its worker process die (a crash inside FFmpeg) is retried
alone in a fresh process and, if it kills that one too, becomes an unreadable
result with the reason; the rest of the run goes on.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from curation.probe import ProbeResult, probe_file

#: what probes one path; module-level so that it pickles into the worker processes
ProbeFn = Callable[[str], ProbeResult]
CRASH_REASON = "the prober crashed on this file"


def default_workers() -> int:
    """One worker per CPU this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def probe_chunk(paths: Sequence[str], probe: ProbeFn = probe_file) -> list[ProbeResult]:
    """Probes a list of paths in this process (the unit of work sent to a worker)."""
    return [probe(path) for path in paths]


def probe_many(
    paths: Mapping[str, str],
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
    probe: ProbeFn = probe_file,
) -> Iterator[tuple[str, ProbeResult]]:
    """Probes ``{key: path}``, yielding ``(key, result)`` in completion order; ``on_done(n)`` after each chunk."""
    workers = workers or default_workers()
    keys_of: dict[str, list[str]] = {}
    for key, path in paths.items():
        keys_of.setdefault(path, []).append(key)
    unique = list(keys_of)
    results = probe_chunk(unique, probe) if workers == 1 else _in_processes(unique, workers, on_done, probe)
    for result in results:
        for key in keys_of[result.path]:
            yield key, result
    if workers == 1 and on_done is not None:
        on_done(len(unique))


def _chunks(paths: Sequence[str], workers: int) -> list[list[str]]:
    # a few chunks per worker keep both busy to the end; small chunks cost pickling round trips
    size = max(1, min(64, math.ceil(len(paths) / (workers * 4))))
    return [list(paths[i : i + size]) for i in range(0, len(paths), size)]


def _pool(workers: int) -> ProcessPoolExecutor:
    # forkserver: safe although the caller runs threads (the progress bar), and cheap per worker
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["curation.probe"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _in_processes(
    paths: Sequence[str], workers: int, on_done: Callable[[int], None] | None, probe: ProbeFn
) -> Iterator[ProbeResult]:
    crashed: list[str] = []
    with _pool(workers) as pool:
        pending: dict[Future[list[ProbeResult]], list[str]] = {
            pool.submit(probe_chunk, chunk, probe): chunk for chunk in _chunks(paths, workers)
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                chunk = pending.pop(future)
                try:
                    yield from future.result()
                except BrokenProcessPool:
                    crashed.extend(chunk)
                if on_done is not None:
                    on_done(len(chunk))
    yield from (_alone(path, probe) for path in crashed)


def _alone(path: str, probe: ProbeFn) -> ProbeResult:
    """Probes one file in a process of its own, so that a crash names the file that caused it."""
    with _pool(1) as pool:
        try:
            return pool.submit(probe_chunk, [path], probe).result()[0]
        except BrokenProcessPool:
            return ProbeResult(path, False, CRASH_REASON)
