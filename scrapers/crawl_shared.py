"""Several workers on one crawl run (a Postgres catalog): each expansion claimed once, members admitted under a lock.

Every worker of a run — the one that started it and those started with
``curate crawl --join RUN_ID``, on this machine or others, each with its own
session, proxy and rate — keeps a mirror of the run's members and draws from it
with its own generator, as a single crawl does. What it draws it claims in the
catalog's ``work_claim`` table (stage ``crawl:RUN_ID``, ``db.claims``): a member
another worker holds or has expanded is dropped and another one drawn. Its step
is then committed under the run's row lock (``db.crawl_shared``), which admits
the related videos still new, up to ``max_videos``, and ends the claim in the same
transaction; the mirror takes the catalog's answer (members admitted by any
worker). A worker killed mid-step leaves its claim behind, which the others take
at once when it ran on their host (its process is gone), or when its lease ends.

With one worker nothing differs from a single crawl — every claim succeeds and the
catalog admits what the mirror would — so the run is the same, draw for draw, and
resumes exactly. Only the feed's seeding is one worker's: a joining worker waits
until the run expands. A worker whose mirror has nothing left to draw looks again
in the catalog; it stops with ``exhausted`` (or ``max_depth``) only when no
member is left unexpanded and no other live worker holds a claim — an expansion in
flight may still bring new members.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from scrapers.crawl import Crawler, progress_from_state
from scrapers.frontier import Member, RandomFrontier
from scrapers.sinks import Step

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from db.claims import CatalogClaims

#: seconds between looks at the catalog while other workers hold the only work left (or seed the run)
POLL_S = 0.2


class SharedFrontier(RandomFrontier):
    """The run's members as the catalog holds them; a draw counts only once its claim is won."""

    def __init__(self, random_seed: int, max_depth: int | None, engine: Engine, run_id: int, claims: CatalogClaims) -> None:
        super().__init__(random_seed, max_depth)
        self.engine, self.run_id, self.claims = engine, run_id, claims
        #: other live workers held claims when the mirror last ran dry: wait, do not stop
        self.busy_elsewhere = False

    @classmethod
    def open(cls, engine: Engine, run_id: int, state: dict[str, Any] | None, random_seed: int, max_depth: int | None, claims: CatalogClaims) -> SharedFrontier:
        """The frontier of run ``run_id``: its members now, and the generator in ``state`` (or fresh from ``random_seed``)."""
        frontier = cls(random_seed, max_depth, engine, run_id, claims)
        frontier.set_rng_state(state)
        from db.crawl_state import load_members

        frontier.extend(load_members(engine, run_id))
        return frontier

    def pick(self) -> str | None:
        """Draws and claims a member; looks in the catalog again before saying there is none."""
        if (vid := self._draw()) is not None:
            return vid
        # claims first, then members: an expansion that ends between the two reads is seen in the second
        held = self.claims.held_elsewhere()
        self.reload(held)
        self.busy_elsewhere = bool(held)
        return self._draw()

    def _draw(self) -> str | None:
        while self._pool:
            vid = self._pool.pop(int(self._rng.integers(len(self._pool))))
            if self.claims.claim([vid]):
                m = self._members[vid]
                self._members[vid] = Member(m.video_id, m.seq, m.depth, m.parent_id, expanded=True)
                return vid
        return None

    def refresh(self) -> None:
        """Adds the members other workers admitted since the mirror last looked."""
        from db.crawl_state import load_members

        self.extend(load_members(self.engine, self.run_id, len(self)))

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Adds catalog rows (in ``seq`` order) the mirror does not have."""
        for row in rows:
            if row["video_id"] not in self._members:
                self._add(Member(**row))

    def reload(self, held: set[str]) -> None:
        """Draws again from every member still open in the catalog (a claim dropped here may have died), but those held."""
        from db.crawl_shared import open_members

        self.refresh()
        still_open = open_members(self.engine, self.run_id, self.max_depth)
        for vid, m in self._members.items():
            # expanded elsewhere, or (a claim lost here, its new holder gone) open again
            if (self.max_depth is None or m.depth < self.max_depth) and m.expanded == (vid in still_open):
                self._members[vid] = Member(m.video_id, m.seq, m.depth, m.parent_id, expanded=vid not in still_open)
        # the mirror's members are in seq order: the pool stays in join order, as a single crawl's
        self._pool = [v for v in self._members if v in still_open and v not in held]

    def reconcile(self, tentative: Iterable[Member], rows: Iterable[Mapping[str, Any]]) -> None:
        """Replaces the members a step admitted in the mirror alone by what the catalog admitted."""
        gone = {m.video_id for m in tentative}
        for vid in gone:
            self._members.pop(vid, None)
        self._pool = [v for v in self._pool if v not in gone]
        self.extend(rows)


class SharedSink:
    """Commits each step at once, under the run's lock, and adds this worker's counters to the run's."""

    def __init__(
        self, engine: Engine, run_id: int, frontier: SharedFrontier, max_videos: int, *, baseline: dict[str, Any],
        joining: bool = False, observed_at: Any = None, extra_state: dict[str, Any] | None = None,
    ) -> None:
        self.engine, self.run_id, self.frontier, self.max_videos = engine, run_id, frontier, max_videos
        self.joining, self.observed_at, self.extra_state = joining, observed_at, extra_state or {}
        self._committed = baseline
        #: steps this worker stored
        self.steps = 0

    def commit(self, step: Step) -> None:
        """Stores one step (or nothing, when its claim was lost) and updates the mirror from the catalog."""
        from db.crawl_shared import ClaimLost, SharedStep, commit_shared_step, sub_counts
        from db.crawl_state import load_members

        from_seq = len(self.frontier) - len(step.joined)
        candidates = step.taken if step.taken is not None else step.items
        shared = SharedStep(step.expanded, candidates, {**step.state, **self.extra_state}, sub_counts(step.stats, self._committed))
        observed = self.observed_at() if callable(self.observed_at) else self.observed_at
        try:
            rows = commit_shared_step(
                self.engine, self.run_id, shared, max_videos=self.max_videos, claims=self.frontier.claims,
                from_seq=from_seq, observed_at=observed,
            )
        except ClaimLost:
            rows = load_members(self.engine, self.run_id, from_seq)
        else:
            self._committed, self.steps = step.stats, self.steps + 1
        self.frontier.reconcile(step.joined, rows)

    def flush(self) -> None:
        """Nothing is ever pending: each step is stored as it comes (the catalog sink's interface)."""

    def wait_written(self) -> None:
        """Every step is already in the catalog when :meth:`commit` returns."""

    def finish(self, status: str, stop_reason: str, stats: dict[str, Any]) -> None:
        """Lets go of this worker's claims and records its end (a joiner that stored nothing leaves the run as it is)."""
        from db.crawl_shared import finish_shared, sub_counts

        self.frontier.claims.release()
        if status == "finished":
            # a stopping rule was met: what a dead worker still holds will never be expanded
            self.frontier.claims.release_dead()
        if self.joining and not self.steps:
            return
        finish_shared(self.engine, self.run_id, status, stop_reason, sub_counts(stats, self._committed))


class SharedCrawler(Crawler):
    """The crawl of one worker among several: seeds only if it started the run, waits while others hold the rest."""

    def __init__(self, *args: Any, joining: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joining = joining

    def _run(self) -> tuple[str, str]:
        while self.progress.phase == "seeding":
            if (stop := self._should_stop()) is not None:
                return stop
            if not self.joining:
                self._seed_step()
            elif (stop := self._await_seeds()) is not None:
                return stop
        while True:
            if (stop := self._should_stop()) is not None:
                return stop
            vid = self.frontier.pick()
            if vid is not None:
                self._expand_step(vid)
            elif self.frontier.busy_elsewhere:
                self._sleep(POLL_S)
            else:
                return "finished", self.frontier.stop_reason()

    def _should_stop(self) -> tuple[str, str] | None:
        # --max-videos counts every worker's members: look at the catalog's first
        self.frontier.refresh()
        return super()._should_stop()

    def _await_seeds(self) -> tuple[str, str] | None:
        """Waits while the run's first worker seeds it; None once the run expands (its progress taken over)."""
        from db.claims import is_dead
        from db.crawl_state import load_run

        record = load_run(self.frontier.engine, self.frontier.run_id)
        if record.status != "running":
            return "interrupted", f"crawl run {record.id} stopped while seeding ({record.status}); resume it with --resume"
        if record.state.get("phase", "seeding") != "seeding":
            steps = self.progress.steps
            self.progress = progress_from_state(record.state)
            self.progress.steps = steps
            self.frontier.reload(set())
            return None
        owner = record.state.get("owner") or {}
        if is_dead(f"{owner.get('host')}:{owner.get('pid')}:seeding"):
            return "interrupted", f"the worker seeding crawl run {record.id} is gone; resume it with --resume"
        self._sleep(POLL_S)
        return None
