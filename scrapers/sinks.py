"""Where a crawl's steps go: a memory sink for tests, the catalog for real crawls.

A step is the unit of progress: the records fetched, the members that joined,
the edges, the video expanded, and the run's state and counters after it. A sink
must store all of it or none of it.
"""

from __future__ import annotations

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
    """Writes each step into the catalog in one transaction: records, membership, edges, state."""

    def __init__(
        self, engine: Engine, run_id: int, observed_at: datetime | None = None, extra_state: dict[str, Any] | None = None
    ) -> None:
        self.engine, self.run_id, self.observed_at = engine, run_id, observed_at
        #: stored beside the crawl's own state (e.g. which process runs it)
        self.extra_state = extra_state or {}

    def commit(self, step: Step) -> None:
        """Stores one step, all or nothing."""
        from db.crawl_state import commit_step

        commit_step(
            self.engine,
            self.run_id,
            items=step.items,
            members=[_member_row(m) for m in step.joined],
            edges=[{"parent_id": e.parent_id, "child_id": e.child_id, "depth": e.depth} for e in step.edges],
            expanded=step.expanded,
            state={**step.state, **self.extra_state},
            stats=step.stats,
            observed_at=self.observed_at,
        )

    def finish(self, status: str, stop_reason: str, stats: dict[str, Any]) -> None:
        """Records the session's end."""
        from db.crawl_state import finish_run

        finish_run(self.engine, self.run_id, status, stop_reason, stats)


def _member_row(m: Member) -> dict[str, Any]:
    return {"video_id": m.video_id, "seq": m.seq, "depth": m.depth, "parent_id": m.parent_id}
