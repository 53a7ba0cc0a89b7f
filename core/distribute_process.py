"""The local-process distributor: shards of units on forkserver worker processes, crashes isolated.

The worker object is pickled once into each process (the pool's initializer), not
once per shard, so a worker that builds something costly on first use (a yt-dlp
instance, a model) builds it once per process. Worker processes ignore Ctrl-C:
the coordinator decides, and when it stops early (Ctrl-C, an error, the caller
leaving the loop) the processes are terminated at once rather than left waiting
on their queue.

When a worker process dies, the pool is broken and every shard in flight with it
fails; each of their units is then run alone in a process of its own, so that a
second death names the unit that caused it (:data:`core.distribute.CRASH_REASON`),
and the run goes on in a fresh pool.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from core.distribute import CRASH_REASON, Done, shard_size_for, shards, sized

U = TypeVar("U")
R = TypeVar("R")

#: the worker object of this process, installed by the pool's initializer
_INSTALLED: Any = None


def _install(worker: Any) -> None:
    """A worker process's initializer: keep the worker, leave Ctrl-C to the coordinator."""
    global _INSTALLED
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _INSTALLED = worker


def _run_installed(units: list[Any]) -> list[Done[Any, Any]]:
    from core.distribute import run_shard

    return run_shard(_INSTALLED, units)


class ProcessDistributor:
    """Runs shards of units on ``workers`` local processes (forkserver: safe beside the caller's threads)."""

    def __init__(self, workers: int, preload: tuple[str, ...] = (), shard_size: int | None = None) -> None:
        self.workers = max(1, workers)
        self.preload = ("core.distribute", *preload)
        self.shard_size = shard_size
        #: pids of the processes of the pool in use (for callers that clean up after them)
        self.pids: set[int] = set()

    def _pool(self, worker: Any, processes: int) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(self.preload))
        return ProcessPoolExecutor(processes, mp_context=context, initializer=_install, initargs=(worker,))

    def map_unordered(self, worker: Callable[[U], R], units: Iterable[U]) -> Iterator[Done[U, R]]:
        """Keeps two shards per process in flight, pulling units as shards finish."""
        size = shard_size_for(sized(units), self.workers, self.shard_size)
        later = shards(units, size)
        while True:
            suspects: list[U] = []
            unsent: list[list[U]] = []
            pool = self._pool(worker, self.workers)
            try:
                yield from self._drain(pool, later, suspects, unsent)
            except BaseException:
                _terminate(pool)
                raise
            finally:
                self.pids |= set(getattr(pool, "_processes", None) or {})
                pool.shutdown(wait=True, cancel_futures=True)
            if not suspects and not unsent:
                return
            for unit in suspects:
                yield self._alone(worker, unit)
            later = itertools.chain(unsent, later)  # a shard the broken pool refused never ran: it goes on as it was

    def _drain(self, pool: ProcessPoolExecutor, pending_shards: Iterator[list[U]], suspects: list[U], unsent: list[list[U]]) -> Iterator[Done[U, R]]:
        """Runs shards until none is left or the pool breaks (then the shards in flight become ``suspects``)."""
        in_flight: dict[Future[list[Done[U, R]]], list[U]] = {}
        ahead = 2 * self.workers
        while True:
            for shard in _take(pending_shards, ahead - len(in_flight)):
                try:
                    in_flight[pool.submit(_run_installed, shard)] = shard
                except BrokenProcessPool:  # it broke since the last wait: this shard was never sent
                    unsent.append(shard)
            if unsent:
                yield from _settle(in_flight, suspects)
                return
            if not in_flight:
                return
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                shard = in_flight.pop(future)
                try:
                    yield from future.result()
                except BrokenProcessPool:
                    suspects.extend(shard)
                    broken = True
            if broken:
                yield from _settle(in_flight, suspects)
                return

    def _alone(self, worker: Any, unit: U) -> Done[U, R]:
        """Runs one unit in a process of its own, so that a crash names the unit that caused it."""
        pool = self._pool(worker, 1)
        try:
            (done,) = pool.submit(_run_installed, [unit]).result()
            return done
        except BrokenProcessPool:
            return Done(unit, error=CRASH_REASON)
        finally:
            self.pids |= set(getattr(pool, "_processes", None) or {})
            pool.shutdown(wait=True, cancel_futures=True)


def _settle(in_flight: dict[Future[list[Done[U, R]]], list[U]], suspects: list[U]) -> Iterator[Done[U, R]]:
    """After a break: the shards that finished still count; the others' units become suspects."""
    for future, shard in in_flight.items():
        if future.done() and not future.cancelled() and future.exception() is None:
            yield from future.result()
        else:
            suspects.extend(shard)


def _take(it: Iterator[list[U]], n: int) -> list[list[U]]:
    out = []
    for _ in range(max(0, n)):
        shard = next(it, None)
        if shard is None:
            break
        out.append(shard)
    return out


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Ends a pool's processes at once (they ignore SIGINT and would wait on their queue forever).

    Python 3.14 has ``terminate_workers()``; before it the executor's process table is the only handle.
    """
    processes = dict(getattr(pool, "_processes", None) or {})
    for process in processes.values():
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes.values():
        with contextlib.suppress(Exception):
            process.join(timeout=5)
