"""The Ray distributor: each shard of units is one Ray task that returns a row per unit.

Ray is an optional extra (``pip install 'viralcurate[ray]'``) and is imported here
only, when a command asks for ``--engine ray``. With an address the driver joins
that cluster; without one it starts a private one in this process, on loopback.
The worker object is put in Ray's object store once and shared by every task; each
Ray worker process keeps the first copy it unpickles for the rest of the run, so
what the worker builds on first use (a yt-dlp instance, a loaded model) is built
once per process, not once per task.

Failures follow :mod:`core.distribute`: an exception inside a task stays with its
unit (the task itself returns normally); a task whose worker process died is
retried unit by unit, and a unit that kills a worker again becomes
:data:`core.distribute.CRASH_REASON`. Ray's own task retries are off, so that a
crash is counted once, here.
"""

from __future__ import annotations

import functools
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

from core.distribute import CRASH_REASON, Done, describe, run_shard, shard_size_for, shards, sized
from core.errors import ConfigError, CurateError, MissingComponent

U = TypeVar("U")
R = TypeVar("R")

INSTALL_HINT = "--engine ray needs Ray: pip install 'viralcurate[ray]' (or pip install 'ray[default]==2.60.0')"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingComponent(INSTALL_HINT) from None
    return ray


def connect(address: str | None, workers: int) -> Any:
    """Joins the cluster at ``address`` (HOST:PORT or ray://…), or starts one here on loopback; returns ``ray``."""
    ray = _ray()
    if address:
        _reachable(address)
    if ray.is_initialized():
        return ray
    options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    host = _host(address) if address else "127.0.0.1"
    if host in LOOPBACK:
        # Ray picks the machine's network interface by default; a loopback cluster needs the driver there too
        options["_node_ip_address"] = "127.0.0.1"
    if address:
        options["address"] = address
    else:
        options.update(num_cpus=workers, include_dashboard=False)
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise CurateError(f"cannot reach the Ray cluster at {address or 'a local start'}: {str(exc).splitlines()[0][:200]}") from None
    return ray


def _reachable(address: str, timeout: float = 5.0) -> None:
    """A clean error at once for a cluster that does not answer (ray.init would retry for minutes)."""
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    if parts.hostname is None or parts.port is None:
        raise ConfigError(f"--ray-address takes HOST:PORT (e.g. 127.0.0.1:6379), got {address!r}")
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=timeout).close()
    except OSError as exc:
        raise CurateError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def _host(address: str) -> str:
    return urlsplit(address if "://" in address else f"ray://{address}").hostname or address


#: workers already unpickled in this Ray worker process, by run token: what a worker builds on first use
#: (a yt-dlp instance, a loaded model) then serves every later task of the run in this process
_KEPT: dict[str, Any] = {}
_KEEP = 4


def _remote_shard(token: str, worker: Any, units: list[Any]) -> list[Done[Any, Any]]:
    """The body of one Ray task: a shard of units through the run's worker, kept in this process across tasks."""
    kept = _KEPT.get(token)
    if kept is None:
        while len(_KEPT) >= _KEEP:
            _KEPT.pop(next(iter(_KEPT)))
        kept = _KEPT[token] = worker
    return run_shard(kept, units)


class RayDistributor:
    """Runs shards of units as Ray tasks (one CPU each), ``workers`` of them at once.

    At most ``workers`` tasks are submitted at a time, so that ``--workers N`` means N
    tasks working whatever the cluster's size (more would run at once on a larger
    cluster); a finished task's slot is refilled as soon as its result is in.
    """

    def __init__(self, address: str | None, workers: int, shard_size: int | None = None) -> None:
        self.address = address
        self.workers = max(1, workers)
        self.shard_size = shard_size
        #: shards finished so far (for a progress bar over shards)
        self.shards_done = 0

    def map_unordered(self, worker: Callable[[U], R], units: Iterable[U]) -> Iterator[Done[U, R]]:
        """Submits shards as earlier ones finish; yields each shard's rows as it comes back."""
        ray = connect(self.address, self.workers)
        task = ray.remote(num_cpus=1, max_retries=0)(_remote_shard)
        ref = ray.put(worker)
        token = uuid.uuid4().hex
        size = shard_size_for(sized(units), self.workers, self.shard_size)
        pending_shards = shards(units, size)
        in_flight: dict[Any, list[U]] = {}
        try:
            while True:
                while len(in_flight) < self.workers and (shard := next(pending_shards, None)) is not None:
                    in_flight[task.remote(token, ref, shard)] = shard
                if not in_flight:
                    return
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                for done_ref in ready:
                    shard = in_flight.pop(done_ref)
                    yield from self._collect(ray, functools.partial(task.remote, token, ref), done_ref, shard)
                    self.shards_done += 1
        finally:
            for pending in in_flight:
                ray.cancel(pending, force=True)

    def _collect(self, ray: Any, submit: Callable[[list[U]], Any], done_ref: Any, shard: list[U]) -> Iterator[Done[U, R]]:
        try:
            yield from ray.get(done_ref)
            return
        except ray.exceptions.RayTaskError as exc:
            # the task ran and raised outside the worker (it could not unpickle it: viralcurate missing on the node)
            reason = f"ray_task_failed: {describe(getattr(exc, 'cause', None) or exc)}"
            yield from (Done(unit, error=reason) for unit in shard)
            return
        except ray.exceptions.RayError:
            pass  # the worker process died: find the unit that did it
        for unit in shard:
            try:
                yield from ray.get(submit([unit]))
            except ray.exceptions.RayError:
                yield Done(unit, error=CRASH_REASON)
