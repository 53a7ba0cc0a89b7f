"""A Research API query run: date windows, pages, quota and failures, resumable at its last commit.

The span ``[start, end)`` is cut into windows of ``window_days`` (the API allows
at most 30; 7 is what its users found far less prone to 500s). Each window is
paged with ``cursor`` and ``search_id`` until ``has_more`` is false. Pages are
committed together (every 1,000 records or second) with the run's state after
the last of them and the quota they spent, so a killed run resumes at its last
commit, re-asking at most those pages. Failures are never skipped in silence:

- "Search Id … is invalid or expired" is retried ``search_retries`` times (a few
  seconds apart: its users found the API sometimes refuses an id it just gave);
  500 ``internal_error`` ``internal_retries`` times with back-off; then the window
  is split in two and started again, and a one-day window that still fails is
  recorded as failed (the run ends ``failed``; ``--resume`` tries those again);
- 429, or a ledger that says the day's requests or records are spent, waits for
  00:00 UTC of the API's clock (``on_quota="wait"``) or stops the run ``blocked``
  with the time of the reset (``on_quota="stop"``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapers.backends.research_api import (
    MAX_COUNT, VIDEO_FIELDS, InternalError, QuotaExhausted, ResearchApiClient, SearchExpired, VideoPage, next_reset,
)
from scrapers.crawl import CrawlStats
from scrapers.politeness import Politeness, RateLimiter
from scrapers.outcome import Outcome, session_outcome
from scrapers.source import TransientError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DAY = "%Y%m%d"
MAX_WINDOW_DAYS = 30
SLEEP_SLICE = 0.2


@dataclass(frozen=True)
class QueryParams:
    """What a query run collects; fixed for the life of the run."""

    query: dict[str, Any]
    start: str
    end: str
    window_days: int = 7
    max_count: int = MAX_COUNT
    fields: tuple[str, ...] = VIDEO_FIELDS

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form, stored in ``crawl_run.params["query_run"]``."""
        return {"query": self.query, "start": self.start, "end": self.end, "window_days": self.window_days,
                "max_count": self.max_count, "fields": list(self.fields)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryParams:
        """The params a run was started with."""
        return cls(**{**data, "fields": tuple(data["fields"])})


@dataclass(frozen=True)
class QueryLimits:
    """How hard to insist and how much a day allows."""

    daily_requests: int = 1000
    daily_records: int = 100_000
    search_retries: int = 5
    search_wait_s: float = 5.0
    internal_retries: int = 3
    #: wait for the quota's reset, or stop the run (``wait`` | ``stop``)
    on_quota: str = "wait"


def windows(start: str, end: str, days: int) -> list[list[str]]:
    """``[start, end)`` cut into consecutive ``[a, b)`` windows of at most ``days`` days (YYYYMMDD)."""
    first, last = _day(start), _day(end)
    out, cursor = [], first
    while cursor < last:
        upper = min(cursor + timedelta(days=days), last)
        out.append([cursor.strftime(DAY), upper.strftime(DAY)])
        cursor = upper
    return out


def split_window(window: list[str]) -> list[list[str]] | None:
    """Two halves of a window longer than one day, else None."""
    first, last = _day(window[0]), _day(window[1])
    days = (last - first).days
    if days <= 1:
        return None
    middle = (first + timedelta(days=days // 2)).strftime(DAY)
    return [[window[0], middle], [middle, window[1]]]


def _day(text: str) -> datetime:
    return datetime.strptime(text, DAY).replace(tzinfo=UTC)


@dataclass
class QueryProgress:
    """Where the run is: windows to do (the first is the current one), its cursor and search id, and the record."""

    pending: list[list[str]]
    cursor: int | None = None
    search_id: str | None = None
    done: list[list[str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    splits: int = 0
    pages: int = 0
    records: int = 0
    #: requests to the query endpoint (every attempt: the quota counts failed ones too)
    data_requests: int = 0
    seq: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form, stored in ``crawl_run.state``."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryProgress:
        """The progress stored with the run's last page."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class QueryResult:
    """How a session of a query run ended."""

    status: str
    stop_reason: str
    progress: QueryProgress
    stats: CrawlStats


class GiveUp(Exception):
    """A window's request failed more often than its retries allow."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class QueryRunner:
    """Runs one query over a client, storing pages in the catalog run ``run_id``."""

    def __init__(self, engine: Engine, run_id: int, client: ResearchApiClient, params: QueryParams,
                 progress: QueryProgress, members: set[str], stats: CrawlStats | None = None,
                 limits: QueryLimits | None = None, politeness: Politeness | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 stop_requested: Callable[[], bool] = lambda: False,
                 on_page: Callable[[QueryRunner], None] | None = None, flush_records: int = 1000, flush_s: float = 1.0) -> None:
        self.engine, self.run_id, self.client, self.params = engine, run_id, client, params
        self.progress, self.members = progress, members
        self.stats = stats or CrawlStats()
        self.limits = limits or QueryLimits()
        self.politeness = politeness or Politeness(rate=0)
        self.stop_requested, self.on_page = stop_requested, on_page
        #: pages are stored together once they hold this many records or are this old (a kill re-asks at most those)
        self.flush_records, self.flush_s = flush_records, flush_s
        self._raw_sleep, self._clock = sleep, clock
        self._limiter = RateLimiter(self.politeness.rate, self.politeness.jitter, clock, self._sleep)
        self._spent = Counter()
        self._exhausted = False
        self._day_floor: str | None = None
        self._started = self._last_tick = self._since = clock()
        self._parsed = client.stats.parse_s
        self._pending_items: list = []
        self._pending_rows: list[dict[str, Any]] = []

    # ---- the loop -------------------------------------------------------------------------------

    def run(self) -> QueryResult:
        """Pages through every pending window; records how the session ended."""
        with session_outcome(self.politeness.attempts, self.stop_requested, self._record_end) as end:
            self.client.token()  # before any quota check: the token's answer tells the API's time (its day)
            end.status, end.reason = self._run()
        return QueryResult(end.status, end.reason, self.progress, self.stats)

    def _record_end(self, end: Outcome) -> None:
        from db.crawl_state import finish_run

        self._commit()
        end.reason = self.client.credentials.redact(end.reason)
        finish_run(self.engine, self.run_id, end.status, end.reason, self.stats.as_dict())

    def _run(self) -> tuple[str, str]:
        while self.progress.pending:
            if self.stop_requested():
                return "interrupted", "interrupted by the user"
            if not self._quota_left():
                stop = self._quota_spent(None)
                if stop is not None:
                    return stop
                continue
            window = self.progress.pending[0]
            try:
                page = self._page(window)
            except QuotaExhausted as exc:
                self._exhausted = True
                stop = self._quota_spent(exc)
                if stop is not None:
                    return stop
                continue
            except GiveUp as exc:
                self._give_up(window, exc)
                continue
            self._store(window, page)
        if self.progress.failed:
            spans = ", ".join(f"{f['start']}–{f['end']} ({f['reason']})" for f in self.progress.failed)
            return "failed", f"{len(self.progress.failed)} window(s) failed: {spans}"
        return "finished", "all windows collected"

    def _page(self, window: list[str]) -> VideoPage:
        """The window's next page, retrying expired search ids and internal errors within their bounds."""
        tries: Counter[str] = Counter()
        while True:
            self._limiter.wait()
            before, sent = self.client.stats.requests, self.client.data_requests
            started = self._clock()
            try:
                return self.client.query_videos(self.params.query, window[0], window[1], self.params.fields,
                                                self.params.max_count, self.progress.cursor, self.progress.search_id)
            except SearchExpired as exc:
                self._retry(tries, "search_id_expired", exc, self.limits.search_retries, self.limits.search_wait_s)
            except InternalError as exc:
                wait = self.politeness.backoff * 2 ** tries["internal_error"]
                self._retry(tries, "internal_error", exc, self.limits.internal_retries, wait)
            except QuotaExhausted:
                raise
            except TransientError as exc:
                self._retry(tries, exc.reason, exc, self.politeness.attempts - 1, self.politeness.backoff, give_up=False)
            finally:
                self._spent["requests"] += self.client.data_requests - sent
                self.progress.data_requests += self.client.data_requests - sent
                self.stats.requests += self.client.stats.requests - before
                self.stats.source_s += self._clock() - started

    def _retry(self, tries: Counter[str], reason: str, exc: Exception, allowed: int, wait: float,
               give_up: bool = True) -> None:
        tries[reason] += 1
        if tries[reason] > allowed:
            self.stats.retries[f"{reason}_gave_up"] += 1
            if give_up:
                raise GiveUp(reason, str(exc)) from None
            raise exc
        self.stats.retries[reason] += 1
        self._sleep(min(wait, self.politeness.backoff_max))

    def _store(self, window: list[str], page: VideoPage) -> None:
        progress = self.progress
        new = [i for i in page.items if i.video.id not in self.members]
        rows = []
        for item in new:
            self.members.add(item.video.id)
            rows.append({"video_id": item.video.id, "seq": progress.seq, "depth": 0, "parent_id": None})
            progress.seq += 1
        for item in page.items:
            self.stats.missing.update(item.missing)
        self.stats.payload_skips.update(page.skipped)
        self._spent["records"] += page.returned
        progress.records += page.returned
        progress.pages += 1
        self.stats.expanded = progress.pages
        if page.has_more and page.cursor > (progress.cursor or 0):
            progress.cursor, progress.search_id = page.cursor, page.search_id
        else:
            progress.done.append(progress.pending.pop(0))
            progress.cursor = progress.search_id = None
        # every item is written again: a re-seen video gets its newer counts as an observation
        self._pending_items += page.items
        self._pending_rows += rows
        if self.on_page is not None:
            self.on_page(self)
        if len(self._pending_items) >= self.flush_records or self._clock() - self._since >= self.flush_s:
            self._commit()

    def _give_up(self, window: list[str], exc: GiveUp) -> None:
        halves = split_window(window)
        progress = self.progress
        progress.pending.pop(0)
        progress.cursor = progress.search_id = None
        if halves is not None:
            progress.pending[:0] = halves
            progress.splits += 1
            self.stats.skips[f"split_{exc.reason}"] += 1
        else:
            progress.failed.append({"start": window[0], "end": window[1], "reason": exc.reason})
            self.stats.skips[f"failed_{exc.reason}"] += 1
        self._commit()

    # ---- quota ----------------------------------------------------------------------------------

    def day(self) -> str:
        """The API's current UTC day (its last Date header; after a wait for the reset, at least the new day)."""
        day = self.client.server_time.strftime(DAY)
        return max(day, self._day_floor) if self._day_floor else day

    def _quota_left(self) -> bool:
        from db.quota import quota_spent

        spent = quota_spent(self.engine, self.client.api_name, self.day())
        requests = spent.requests + self._spent["requests"]
        records = spent.records + self._spent["records"]
        return not spent.exhausted and requests < self.limits.daily_requests and records < self.limits.daily_records

    def _quota_spent(self, exc: QuotaExhausted | None) -> tuple[str, str] | None:
        """Waits for 00:00 UTC (or stops, returning the status) once the day's quota is spent."""
        day = self.day()
        reset = exc.reset_at if exc is not None else next_reset(_day(day))
        self.stats.retries["quota_wait"] += 1
        self._commit()
        if self.limits.on_quota == "stop":
            return "blocked", (f"the Research API's daily quota for {day} is spent (429 or the ledger's limits); "
                               f"it resets at {reset.isoformat()}")
        seconds = max((reset - self.client.server_time).total_seconds(), 0.0) + 1.0
        self._sleep(seconds)
        self._day_floor = reset.strftime(DAY)
        self._exhausted = False
        # a search id does not outlive the night: the window starts again (its videos already stored are kept)
        self.progress.cursor = self.progress.search_id = None
        return None

    # ---- plumbing -------------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        """Sleeps (an injected sleep in one call: tests move a clock); real sleeps in slices, so Ctrl-C is heard."""
        self.stats.wait_s += seconds
        if self._raw_sleep is not time.sleep:
            self._raw_sleep(seconds)
            return
        while seconds > 0 and not self.stop_requested():
            time.sleep(min(seconds, SLEEP_SLICE))
            seconds -= SLEEP_SLICE

    def _commit(self) -> None:
        """Stores the pages held so far with the state after the last of them and the quota they spent, in one transaction."""
        from db.crawl_state import owner
        from db.quota import QuotaDelta, commit_query_page

        now = self._clock()
        self.stats.wall_s += now - self._last_tick
        self._last_tick = now
        self.stats.parse_s += self.client.stats.parse_s - self._parsed
        self._parsed = self.client.stats.parse_s
        delta = QuotaDelta(self.client.api_name, self.day(), self._spent["requests"], self._spent["records"], self._exhausted)
        commit_query_page(self.engine, self.run_id, items=self._pending_items, members=self._pending_rows,
                          state={**self.progress.as_dict(), "owner": owner()}, stats=self.stats.as_dict(), quota=delta)
        self._spent.clear()
        self._pending_items, self._pending_rows = [], []
        self._since = self._clock()
