"""The recursive For-You crawl (Viral Vision, seed 001), step by step, resumable at every step.

Seeding: pages of the For-You feed, as a guest, until ``seed`` videos joined at
depth 0. Expanding: again and again the frontier draws a member not expanded yet,
the source lists its related videos, the first ``fanout`` of them are taken and
the new ones join one level deeper, with an edge from the parent. It stops at
``max_videos``, when nothing is left to expand (``max_depth`` or exhausted), at the
time budget, on a block, or when a failure outlasts its retries.

Every step is one unit: the source is asked first (nothing written yet), then the
sink commits the step's records, new members, edges, the frontier's generator
state and the counters together. A run killed anywhere restarts from its last
commit and draws exactly what it would have drawn, so a resumed crawl ends with
the videos and edges of an uninterrupted one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.records import ParsedItem
from scrapers.frontier import Frontier, Member
from scrapers.politeness import PacedCalls, Politeness, RateLimiter, RetryPolicy
from scrapers.sinks import EdgeRecord, Sink, Step
from scrapers.answers import blocked
from scrapers.outcome import Outcome, session_outcome
from scrapers.source import Blocked, Page, Skip, Source, Withheld

#: related videos asked per request (the web app asks 16)
RELATED_PAGE = 16
#: hard cap on related pages per expansion: the platform's hasMore is not to be trusted
MAX_RELATED_PAGES = 3
#: longest uninterrupted sleep (back-off, pacing), so that Ctrl-C is heard quickly
SLEEP_SLICE = 0.2
#: times a withheld post (statusCode 10204) is asked before the session itself is checked
WITHHELD_ATTEMPTS = 3
#: feed pages per request and consecutive feed pages with nothing new before seeding gives up
FEED_PAGE = 30
MAX_STALE_FEED_PAGES = 3
#: the same feed page this many times more in a row is the feed's soft block (checked before staleness)
MAX_FEED_REPEATS = 2


@dataclass(frozen=True)
class CrawlParams:
    """What decides which videos a crawl reaches; fixed for the life of a run."""

    seed: int = 25
    fanout: int = 5
    max_videos: int = 500
    max_depth: int | None = None
    random_seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form, stored in ``crawl_run.params``."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class CrawlStats:
    """Counters a run accumulates across sessions; stored with each step."""

    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    skips: Counter[str] = field(default_factory=Counter)
    payload_skips: Counter[str] = field(default_factory=Counter)
    missing: Counter[str] = field(default_factory=Counter)
    expanded: int = 0
    feed_pages: int = 0
    #: seconds inside source calls, in waits (politeness, back-off), in all; and the parser's share
    source_s: float = 0.0
    wait_s: float = 0.0
    wall_s: float = 0.0
    parse_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {k: dict(v) if isinstance(v, Counter) else (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CrawlStats:
        """Counters as stored by an earlier session of the run."""
        stats = cls()
        for key, value in (data or {}).items():
            if key in cls.__dataclass_fields__:
                setattr(stats, key, Counter(value) if isinstance(getattr(stats, key), Counter) else value)
        return stats


@dataclass
class CrawlProgress:
    """Where the run is: the phase, the feed's cursor, the last step's number."""

    phase: str = "seeding"
    feed_cursor: str | int | None = None
    stale_feed_pages: int = 0
    steps: int = 0


@dataclass
class CrawlResult:
    """How a session of a run ended."""

    status: str
    stop_reason: str
    stats: CrawlStats
    videos: int
    depths: dict[int, int]


class Crawler(PacedCalls):
    """Runs one crawl over a source, a frontier and a sink (memory for tests, the catalog for real)."""

    def __init__(
        self,
        source: Source,
        frontier: Frontier,
        sink: Sink,
        params: CrawlParams,
        politeness: Politeness | None = None,
        progress: CrawlProgress | None = None,
        stats: CrawlStats | None = None,
        time_budget: float | None = None,
        on_step: Callable[[Crawler], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        redact: Callable[[str], str] = str,
        stop_requested: Callable[[], bool] = lambda: False,
    ) -> None:
        self.source, self.frontier, self.sink, self.params = source, frontier, sink, params
        #: polled between steps: a user's Ctrl-C, caught by the command line
        self.stop_requested = stop_requested
        #: scrubs secrets out of messages before they are stored or shown
        self.redact = redact
        self.politeness = politeness or Politeness()
        self.progress = progress or CrawlProgress()
        self.stats = stats or CrawlStats()
        self.time_budget, self.on_step = time_budget, on_step
        self._clock, self._sleep = clock, self._timed_sleep(sleep)
        self._limiter = RateLimiter(self.politeness.rate, self.politeness.jitter, clock, self._sleep)
        self._retry = RetryPolicy(self.politeness, self._sleep, stop_requested)
        self._carried_retries = Counter(self.stats.retries)
        self._started = self._last_tick = clock()
        self._last_feed_ids: list[str] = []
        self._feed_repeats = 0

    def _timed_sleep(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        def timed(seconds: float) -> None:
            # in slices, so that a stop asked for during a long back-off is heard within a fraction of a second
            self.stats.wait_s += seconds
            while seconds > 0 and not self.stop_requested():
                sleep(min(seconds, SLEEP_SLICE))
                seconds -= SLEEP_SLICE

        return timed

    def run(self) -> CrawlResult:
        """Crawls until a stop condition; the sink records how the session ended."""
        with session_outcome(self.politeness.attempts, self.stop_requested, self._record_end) as end:
            end.status, end.reason = self._run()
        return CrawlResult(end.status, end.reason, self.stats, len(self.frontier), self._depths())

    def _record_end(self, end: Outcome) -> None:
        self.stats.retries = self._carried_retries + self._retry.retries
        self._tick()
        end.reason = self.redact(end.reason)
        self.sink.finish(end.status, end.reason, self.stats.as_dict())

    def _run(self) -> tuple[str, str]:
        while self.progress.phase == "seeding":
            if (stop := self._should_stop()) is not None:
                return stop
            self._seed_step()
        while True:
            if (stop := self._should_stop()) is not None:
                return stop
            vid = self.frontier.pick()
            if vid is None:
                return "finished", getattr(self.frontier, "stop_reason", lambda: "exhausted")()
            self._expand_step(vid)

    def _should_stop(self) -> tuple[str, str] | None:
        if self.stop_requested():
            return "interrupted", "interrupted by the user"
        if len(self.frontier) >= self.params.max_videos:
            return "finished", "max_videos"
        if self.time_budget is not None and self._clock() - self._started >= self.time_budget:
            return "interrupted", f"time budget of {self.time_budget:g} s reached"
        return None

    # -- seeding -------------------------------------------------------------------------------

    def _seed_step(self) -> None:
        cursor = self.progress.feed_cursor
        page = self._feed(cursor)
        self.stats.feed_pages += 1
        self._check_repeats(page)
        want = min(self.params.seed, self.params.max_videos) - len(self.frontier)
        joined = self.frontier.admit([i.video.id for i in page.items], None, want)
        self.progress.stale_feed_pages = 0 if joined else self.progress.stale_feed_pages + 1
        self.progress.feed_cursor = page.cursor
        done = len(joined) >= want or not page.has_more or self.progress.stale_feed_pages >= MAX_STALE_FEED_PAGES
        if done:
            self.progress.phase = "expanding"
        ids = {m.video_id for m in joined}
        self._commit(Step(items=[i for i in page.items if i.video.id in ids], joined=joined))

    def _check_repeats(self, page: Page) -> None:
        """Stops the run when the feed keeps answering the very same page (a soft block, not the end)."""
        ids = [i.video.id for i in page.items]
        self._feed_repeats = self._feed_repeats + 1 if ids and ids == self._last_feed_ids else 0
        self._last_feed_ids = ids
        if self._feed_repeats >= MAX_FEED_REPEATS:
            raise blocked("feed_repeats", "the For-You feed", f"{len(ids)} identical items {self._feed_repeats + 1} times")

    # -- expanding -----------------------------------------------------------------------------

    def _feed(self, cursor: str | int | None) -> Page:
        try:
            return self._fetch(lambda: self.source.feed(FEED_PAGE, cursor))
        except Withheld as exc:
            # the feed is about no post in particular: withholding it means this address is blocked
            raise Blocked(f"IP blocked — {exc}", reason="ip_blocked") from None

    def _expand_step(self, vid: str) -> None:
        try:
            related = self._related_confirmed(vid)
        except Skip as exc:
            self.stats.skips[exc.reason] += 1
            self._commit(Step(expanded=vid, skip_reason=exc.reason))
            return
        taken = related[: self.params.fanout]
        joined = self.frontier.admit([i.video.id for i in taken], vid, self.params.max_videos - len(self.frontier))
        members = [i for i in taken if i.video.id in self.frontier]
        edges = [EdgeRecord(vid, i.video.id, self.frontier.depth(i.video.id)) for i in members]
        self.stats.expanded += 1
        self._commit(Step(items=members, joined=joined, edges=edges, expanded=vid, taken=taken))

    def _related_confirmed(self, vid: str) -> list[ParsedItem]:
        """The related videos; a private or missing video is asked once more before it is skipped for good."""
        try:
            return self._related_withheld(vid)
        except Withheld:
            raise
        except Skip:
            # a skip changes the crawl's path for good: one stray answer must not (confirmed, counted)
            self._retry.retries["confirm_skip"] += 1
            return self._related_withheld(vid)

    def _related_withheld(self, vid: str) -> list[ParsedItem]:
        """The related videos; a post that stays withheld is gone if the feed still answers, else a block."""
        withheld = Withheld(f"related of {vid}")
        for attempt in range(WITHHELD_ATTEMPTS):
            if attempt:
                self._retry.retries["withheld"] += 1
            try:
                return self._related(vid)
            except Withheld as exc:
                withheld = exc
        self._feed(None)  # raises Blocked when the feed is withheld too
        raise withheld

    def _related(self, vid: str) -> list[ParsedItem]:
        """Up to ``fanout`` distinct related videos, following hasMore at most MAX_RELATED_PAGES pages."""
        found: dict[str, ParsedItem] = {}
        cursor: str | int | None = None
        for _ in range(MAX_RELATED_PAGES):
            page = self._fetch(lambda c=cursor: self.source.related(vid, RELATED_PAGE, c))
            fresh = [i for i in page.items if i.video.id != vid and i.video.id not in found]
            found.update((i.video.id, i) for i in fresh)
            if len(found) >= self.params.fanout or not page.has_more or not fresh:
                break
            cursor = page.cursor
        return list(found.values())

    # -- plumbing ------------------------------------------------------------------------------

    def _commit(self, step: Step) -> None:
        for item in step.items:
            self.stats.missing.update(item.missing)
        self.stats.retries = self._carried_retries + self._retry.retries
        self.progress.steps += 1
        self._tick()
        step.state = self.state()
        step.stats = self.stats.as_dict()
        self.sink.commit(step)
        if self.on_step is not None:
            self.on_step(self)

    def state(self) -> dict[str, Any]:
        """Everything a resumed session needs besides the membership rows."""
        return {
            "phase": self.progress.phase,
            "feed_cursor": self.progress.feed_cursor,
            "stale_feed_pages": self.progress.stale_feed_pages,
            "steps": self.progress.steps,
            "rng": self.frontier.state(),
        }

    def _depths(self) -> dict[int, int]:
        histogram = getattr(self.frontier, "depth_histogram", None)
        return histogram() if histogram else {}


def progress_from_state(state: dict[str, Any] | None) -> CrawlProgress:
    """The phase and cursor a run had at its last committed step."""
    state = state or {}
    return CrawlProgress(
        phase=state.get("phase", "seeding"),
        feed_cursor=state.get("feed_cursor"),
        stale_feed_pages=int(state.get("stale_feed_pages", 0)),
        steps=int(state.get("steps", 0)),
    )


__all__ = ["CrawlParams", "CrawlProgress", "CrawlResult", "CrawlStats", "Crawler", "Member", "progress_from_state"]
