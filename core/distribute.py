"""One distributor for every stage: units in, one result or one error per unit out, in completion order.

A *worker* is a picklable callable object (``worker(unit) -> result``) built by the
stage that owns the work (``ProbeWorker``, ``MediaDownloader``, an extraction batch
runner); a *distributor* runs it over units somewhere:

- :class:`InlineDistributor`: in this process, one unit after another;
- :class:`ThreadDistributor`: threads of this process (work that releases the GIL);
- :class:`ProcessDistributor` (:mod:`core.distribute_process`): local worker processes;
- :class:`RayDistributor` (:mod:`core.distribute_ray`): tasks on a Ray cluster.

Every implementation has the one method :meth:`Distributor.map_unordered` and the
same failure rules: an exception raised by the worker becomes that unit's
:attr:`Done.error` (``"ExceptionType: message"``), and a unit whose worker process
dies (a crash inside FFmpeg, the OOM killer) becomes a unit with
:data:`CRASH_REASON` — the run goes on either way. Units are pulled from the
iterable lazily, a bounded number ahead of the workers, so a stage may hand in a
generator that claims its work from the catalog as it is pulled.

:func:`make_distributor` is the one place that picks an implementation from the
settings a command resolved (``--engine``, ``--workers``, ``--ray-address``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import islice
from typing import Any, Generic, Protocol, TypeVar

from core.errors import ConfigError

U = TypeVar("U")
R = TypeVar("R")

#: the error of a unit whose worker process died while working on it (twice: once with others, once alone)
CRASH_REASON = "worker_crashed: the worker process died on this unit"
ENGINES = ("local", "ray")


@dataclass(frozen=True, slots=True)
class Done(Generic[U, R]):
    """What became of one unit: its result, or the error that stopped it (never both)."""

    unit: U
    result: R | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the worker returned a result."""
        return self.error is None


class Distributor(Protocol):
    """Runs a worker over units; see the module's docstring for the rules all implementations keep."""

    workers: int

    def map_unordered(self, worker: Callable[[U], R], units: Iterable[U]) -> Iterator[Done[U, R]]:
        """Yields one :class:`Done` per unit, in the order they finish."""
        ...


def describe(exc: BaseException) -> str:
    """An exception as one short line: ``TypeName: first line of its message``."""
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_shard(worker: Callable[[U], R], units: list[U]) -> list[Done[U, R]]:
    """Runs ``worker`` over a shard of units in this process; each exception stays with its unit."""
    out: list[Done[U, R]] = []
    for unit in units:
        try:
            out.append(Done(unit, worker(unit)))
        except Exception as exc:  # noqa: BLE001 - a failed unit is a row with a reason, never a dead run
            out.append(Done(unit, error=describe(exc)))
    return out


def shards(units: Iterable[U], size: int) -> Iterator[list[U]]:
    """Cuts an iterable into lists of ``size`` units (the last may be shorter), lazily."""
    it = iter(units)
    while chunk := list(islice(it, max(1, size))):
        yield chunk


def default_workers() -> int:
    """One worker per CPU this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class InlineDistributor:
    """Runs every unit in this process, one after another (one worker; a handful of units)."""

    workers = 1

    def map_unordered(self, worker: Callable[[U], R], units: Iterable[U]) -> Iterator[Done[U, R]]:
        """Yields each unit's outcome as soon as it is computed."""
        for unit in units:
            yield from run_shard(worker, [unit])


class ThreadDistributor:
    """Runs units on threads of this process: for work that waits or releases the GIL (PyAV decoding)."""

    def __init__(self, workers: int, ahead: int | None = None) -> None:
        self.workers = max(1, workers)
        self.ahead = ahead or 2 * self.workers

    def map_unordered(self, worker: Callable[[U], R], units: Iterable[U]) -> Iterator[Done[U, R]]:
        """Keeps ``ahead`` units in flight, pulling more as they finish."""
        it = iter(units)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="distribute") as pool:
            pending: dict[Future[list[Done[U, R]]], U] = {}
            try:
                while True:
                    for unit in islice(it, self.ahead - len(pending)):
                        pending[pool.submit(run_shard, worker, [unit])] = unit
                    if not pending:
                        return
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        del pending[future]
                        yield from future.result()
            finally:
                for future in pending:
                    future.cancel()


@dataclass(frozen=True)
class EngineSettings:
    """Where a stage's work runs, as the command resolved it: engine, workers, Ray cluster, shard size."""

    engine: str = "local"
    workers: int | None = None
    ray_address: str | None = None
    #: units per shard (one process or Ray task call); None lets the distributor choose
    shard_size: int | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine {self.engine!r}: choose one of {', '.join(ENGINES)}")
        if self.ray_address and self.engine != "ray":
            raise ConfigError("--ray-address needs --engine ray")


def make_distributor(settings: EngineSettings, preload: Iterable[str] = (), threads: bool = False) -> Distributor:
    """The distributor the settings ask for; the one place that chooses.

    ``engine="local"`` with one worker runs inline; with more, ``threads=True`` picks
    threads (work that releases the GIL) and otherwise worker processes, which start
    with the modules in ``preload`` imported. ``engine="ray"`` connects to the cluster
    at ``ray_address`` (or starts one on loopback in this process).
    """
    workers = settings.workers or default_workers()
    if settings.engine == "ray":
        from core.distribute_ray import RayDistributor

        return RayDistributor(settings.ray_address, workers, settings.shard_size)
    if workers <= 1:
        return InlineDistributor()
    if threads:
        return ThreadDistributor(workers)
    from core.distribute_process import ProcessDistributor

    return ProcessDistributor(workers, tuple(preload), settings.shard_size)


def shard_size_for(known_total: int | None, workers: int, given: int | None, cap: int = 64) -> int:
    """Units per shard: as given, else a few shards per worker (both stay busy to the end), at most ``cap``."""
    if given:
        return given
    if not known_total:
        return 1
    return max(1, min(cap, -(-known_total // (workers * 4))))


def sized(units: Iterable[Any]) -> int | None:
    """The number of units when the iterable knows it (a list), else None (a generator)."""
    return len(units) if hasattr(units, "__len__") else None  # type: ignore[arg-type]
