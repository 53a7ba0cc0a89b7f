"""Probing many files through the one distributor (:mod:`core.distribute`): local processes or Ray tasks.

The worker is :class:`ProbeWorker`, a picklable callable; a file that makes its
worker process die (a crash inside FFmpeg) comes back from the distributor as a
unit with an error, and becomes an unreadable result with :data:`CRASH_REASON`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from core.distribute import CRASH_REASON as WORKER_CRASHED
from core.distribute import Distributor, Done, EngineSettings, default_workers, make_distributor
from curation.probe import ProbeResult, probe_file

#: what probes one path; module-level so that it pickles into the worker processes
ProbeFn = Callable[[str], ProbeResult]
CRASH_REASON = "the prober crashed on this file"
#: what a probing process imports before it forks
PRELOAD = ("curation.probe",)

__all__ = ["CRASH_REASON", "ProbeWorker", "default_workers", "probe_distributor", "probe_many", "result_of"]


@dataclass(frozen=True)
class ProbeWorker:
    """Probes one path: the probing stage's worker for the distributor."""

    probe: ProbeFn = probe_file

    def __call__(self, path: str) -> ProbeResult:
        return self.probe(path)


def result_of(done: Done[str, ProbeResult]) -> ProbeResult:
    """A distributor's outcome as a probe result: a dead worker or an escaped error is an unreadable file."""
    if done.ok:
        return done.result  # type: ignore[return-value]
    reason = CRASH_REASON if done.error == WORKER_CRASHED else f"probe failed: {done.error}"
    return ProbeResult(done.unit, False, reason)


def probe_distributor(workers: int | None = None, settings: EngineSettings | None = None) -> Distributor:
    """The distributor for probing: the settings' engine, ``workers`` processes (default one per CPU)."""
    settings = settings or EngineSettings()
    chosen = EngineSettings(settings.engine, workers or settings.workers or default_workers(), settings.ray_address, settings.shard_size)
    return make_distributor(chosen, PRELOAD)


def probe_paths(distributor: Distributor, paths: Iterable[str], probe: ProbeFn = probe_file) -> Iterator[ProbeResult]:
    """Probes ``paths`` (a list, or a generator claiming them as they are pulled), yielding results as they finish."""
    for done in distributor.map_unordered(ProbeWorker(probe), paths):
        yield result_of(done)


def probe_many(
    paths: Mapping[str, str],
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
    probe: ProbeFn = probe_file,
    settings: EngineSettings | None = None,
) -> Iterator[tuple[str, ProbeResult]]:
    """Probes ``{key: path}``, yielding ``(key, result)`` in completion order; ``on_done(n)`` after each file."""
    keys_of: dict[str, list[str]] = {}
    for key, path in paths.items():
        keys_of.setdefault(path, []).append(key)
    for result in probe_paths(probe_distributor(workers, settings), list(keys_of), probe):
        for key in keys_of[result.path]:
            yield key, result
        if on_done is not None:
            on_done(1)
