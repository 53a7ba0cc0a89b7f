"""Where a crawl's steps go: a memory sink for tests, the catalog for real crawls.

A step is the unit of progress: the records fetched, the members that joined,
the edges, the video expanded, and the run's state and counters after it. A sink
stores whole steps only, never part of one, with the state that follows them.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from core.records import ParsedItem
from scrapers.frontier import Member

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


@dataclass(frozen=True, slots=True)
class EdgeRecord:
    """``child`` was listed among the related videos of ``parent``; ``depth`` is the child's."""

    parent_id: str
    child_id: str
    depth: int


@dataclass
class Step:
    """Everything one crawl step produced, to be stored together."""

    items: list[ParsedItem] = field(default_factory=list)
    joined: list[Member] = field(default_factory=list)
    edges: list[EdgeRecord] = field(default_factory=list)
    #: the member this step expanded (None while seeding)
    expanded: str | None = None
    #: why the expanded member gave nothing (private, not found …)
    skip_reason: str | None = None
    #: every related video the expansion took, members or not (a sink that admits members itself needs them)
    taken: list[ParsedItem] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


class Sink(Protocol):
    """Stores steps atomically and records how a session ended."""

    def commit(self, step: Step) -> None:
        """Stores one step, all or nothing."""
        ...

    def finish(self, status: str, stop_reason: str, stats: dict[str, Any]) -> None:
        """Records the session's end (status, one-line reason, counters)."""
        ...


class MemorySink:
    """Keeps everything in lists and dicts: for tests and dry runs."""

    def __init__(self) -> None:
        self.items: dict[str, ParsedItem] = {}
        self.members: list[Member] = []
        self.edges: list[EdgeRecord] = []
        self._edge_set: set[EdgeRecord] = set()
        self.expanded: list[str] = []
        self.skipped: dict[str, str] = {}
        self.state: dict[str, Any] = {}
        self.stats: dict[str, Any] = {}
        self.status: str | None = None
        self.stop_reason: str | None = None

    def commit(self, step: Step) -> None:
        """Stores one step."""
        self.items.update((i.video.id, i) for i in step.items)
        self.members.extend(step.joined)
        for edge in step.edges:
            if edge not in self._edge_set:
                self._edge_set.add(edge)
                self.edges.append(edge)
        if step.expanded is not None:
            self.expanded.append(step.expanded)
        if step.skip_reason is not None and step.expanded is not None:
            self.skipped[step.expanded] = step.skip_reason
        self.state, self.stats = step.state, step.stats

    def finish(self, status: str, stop_reason: str, stats: dict[str, Any]) -> None:
        """Records the session's end."""
        self.status, self.stop_reason, self.stats = status, stop_reason, stats


class CatalogSink:
    """Writes steps into the catalog: a few consecutive steps per transaction, with the state after the last.

    Grouping steps (at most ``flush_steps`` of them, or ``flush_s`` seconds' worth)
    keeps the cost of a transaction and of building its statements off each step,
    and changes nothing about resuming: the stored state always matches the stored
    rows, so a killed run redoes the unstored steps and draws exactly what it drew.
    With ``background`` the groups are written by one writer thread, in order, while
    the crawl goes on waiting for the site; ``finish`` waits for them, then records
    the end. A failed write stops the crawl at its next step.
    """

    def __init__(
        self,
        engine: Engine,
        run_id: int,
        observed_at: datetime | Callable[[], datetime] | None = None,
        extra_state: dict[str, Any] | None = None,
        flush_steps: int = 25,
        flush_s: float = 0.5,
        background: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine, self.run_id, self.observed_at = engine, run_id, observed_at
        #: stored beside the crawl's own state (e.g. which process runs it)
        self.extra_state = extra_state or {}
        self.flush_steps, self.flush_s, self._clock = flush_steps, flush_s, clock
        self._pending: list[Step] = []
        self._since = clock()
        self._writer = _Writer(self._write) if background else None
        #: transactions written so far
        self.flushes = 0

    def commit(self, step: Step) -> None:
        """Queues one step; hands the queue to the writer when it is long or old enough."""
        if self._writer is not None:
            self._writer.check()
        if not self._pending:
            self._since = self._clock()
        self._pending.append(step)
        if len(self._pending) >= self.flush_steps or self._clock() - self._since >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        """Writes (or hands to the writer) the queued steps as one transaction."""
        if not self._pending:
            return
        steps, self._pending = self._pending, []
        if self._writer is not None:
            self._writer.submit(steps)
        else:
            self._write(steps)

    def wait_written(self) -> None:
        """Returns once every group handed to the writer is in the catalog (at once without a writer)."""
        if self._writer is not None:
            self._writer.wait()

    def _write(self, steps: list[Step]) -> None:
        from db.crawl_state import commit_steps

        last = steps[-1]
        commit_steps(
            self.engine,
            self.run_id,
            items=[item for step in steps for item in step.items],
            members=[_member_row(m) for step in steps for m in step.joined],
            edges=list({(e.parent_id, e.child_id): _edge_row(e) for step in steps for e in step.edges}.values()),
            expanded=[step.expanded for step in steps if step.expanded is not None],
            state={**last.state, **self.extra_state},
            stats=last.stats,
            observed_at=self.observed_at() if callable(self.observed_at) else self.observed_at,
        )
        self.flushes += 1

    def finish(self, status: str, stop_reason: str, stats: dict[str, Any]) -> None:
        """Writes what is pending, waits for the writer, then records the session's end."""
        from db.crawl_state import finish_run

        self.flush()
        failure = self._writer.close() if self._writer is not None else None
        if failure is not None:
            finish_run(self.engine, self.run_id, "failed", f"catalog write failed: {failure}", stats)
            raise failure
        finish_run(self.engine, self.run_id, status, stop_reason, stats)


class _Writer:
    """One thread that runs writes in the order they were handed over; remembers the first failure."""

    def __init__(self, write: Callable[[list[Step]], None]) -> None:
        self._write = write
        self._queue: queue.Queue[list[Step] | None] = queue.Queue(maxsize=4)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="crawl-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (steps := self._queue.get()) is not None:
            try:
                if self._failure is None:
                    self._write(steps)
            except BaseException as exc:  # noqa: BLE001 - handed to the crawl thread
                self._failure = exc
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def submit(self, steps: list[Step]) -> None:
        """Queues a write (blocks while four are waiting: the crawl must not outrun the catalog)."""
        self._queue.put(steps)

    def wait(self) -> None:
        """Blocks until every queued write has been run."""
        self._queue.join()

    def check(self) -> None:
        """Raises the first failed write, if any."""
        if self._failure is not None:
            raise self._failure

    def close(self) -> BaseException | None:
        """Waits for every queued write and stops the thread; returns the first failure."""
        self._queue.put(None)
        self._thread.join()
        return self._failure


def _edge_row(e: EdgeRecord) -> dict[str, Any]:
    return {"parent_id": e.parent_id, "child_id": e.child_id, "depth": e.depth}


def _member_row(m: Member) -> dict[str, Any]:
    return {"video_id": m.video_id, "seq": m.seq, "depth": m.depth, "parent_id": m.parent_id}
