"""Creators' recent videos (``curate crawl --users FILE``): each listed account's newest videos, through any backend.

A run keeps its handles in its params and, in its state, the index of the next creator and every creator's
outcome. One creator is one step: its list is paged (``Source.author_videos``) until ``max_videos`` videos, the
list's end or MAX_PAGES pages; then its videos (members of the run, depth 0), its account and the state after it
are committed together, so a killed run redoes at most the creator it was on. An account that does not exist or
is private is recorded with that reason (``not_found``, ``private_account``; the Research API says
``not_found_or_private``), never as a creator with nothing
posted, and the run goes on; a block stops the run, resumable, as in the For-You crawl.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError
from core.records import AuthorRecord, ParsedItem
from scrapers.crawl import CrawlStats
from scrapers.politeness import PacedCalls, Politeness, RateLimiter, RetryPolicy
from scrapers.outcome import Outcome, session_outcome
from scrapers.source import Skip, Source, Withheld

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from db.crawl_state import RunRecord

#: a handle as the platform allows it: letters, digits, ``_`` and ``.``, 2 to 24 characters
HANDLE = re.compile(r"^[A-Za-z0-9_.]{2,24}$")
#: a line may also be the profile's URL
PROFILE_URL = re.compile(r"^(?:https?://)?(?:www\.)?tiktok\.com/@([^/?#\s]+)/?(?:\?\S*)?$", re.IGNORECASE)
#: videos asked per page, and the most pages read per creator (the platform's hasMore is not to be trusted)
PAGE_SIZE = 30
MAX_PAGES = 20
#: videos kept per creator when --max-videos is not given
DEFAULT_MAX_VIDEOS = 30
#: the outcome of a creator whose list was read (a skip's reason otherwise)
LISTED = "listed"


@dataclass(frozen=True)
class BadLine:
    """A line of the handles file that names no handle, and why."""

    line: int
    text: str
    why: str


@dataclass(frozen=True)
class HandleList:
    """The handles a file lists, in order and once each (case aside), and the lines that were not handles."""

    handles: tuple[str, ...]
    bad: tuple[BadLine, ...] = ()
    repeated: int = 0


def read_handles(path: Path) -> HandleList:
    """The handles in ``path``: one a line, with or without ``@`` (or a profile URL); ``#`` starts a comment."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--users: no such file: {path}") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise ConfigError(f"--users {path}: not a text file ({type(exc).__name__})") from None
    found = parse_handles(text.splitlines())
    if not found.handles:
        lines = f" ({len(found.bad)} bad line(s), e.g. line {found.bad[0].line}: {found.bad[0].why})" if found.bad else ""
        raise ConfigError(f"--users {path}: the file names no handle{lines}")
    return found


def parse_handles(lines: Iterable[str]) -> HandleList:
    """Handles from lines of text (see :func:`read_handles`); bad lines are kept with their number and reason."""
    handles: list[str] = []
    bad: list[BadLine] = []
    seen: set[str] = set()
    repeated = 0
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        handle, why = _handle(text)
        if handle is None:
            bad.append(BadLine(number, text, why))
        elif handle.lower() in seen:
            repeated += 1
        else:
            seen.add(handle.lower())
            handles.append(handle)
    return HandleList(tuple(handles), tuple(bad), repeated)


def _handle(text: str) -> tuple[str | None, str]:
    url = PROFILE_URL.match(text)
    candidate = url.group(1) if url else text
    candidate = candidate[1:] if candidate.startswith("@") else candidate
    if any(c.isspace() for c in candidate):
        return None, "more than one word (one handle a line)"
    if not HANDLE.match(candidate):
        return None, "not a handle (2 to 24 letters, digits, _ or .)"
    return candidate, ""


@dataclass(frozen=True)
class CreatorParams:
    """What a creators run lists; fixed for the life of the run."""

    handles: tuple[str, ...]
    max_videos: int = DEFAULT_MAX_VIDEOS

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form, stored in ``crawl_run.params["creators"]``."""
        return {"handles": list(self.handles), "max_videos": self.max_videos}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CreatorParams:
        """The params a run was started with."""
        return cls(tuple(data["handles"]), int(data["max_videos"]))


@dataclass
class CreatorProgress:
    """Where the run is: the next creator's index, the next member's number, and each creator's outcome."""

    next: int = 0
    seq: int = 0
    #: handle → {"outcome": "listed" or a skip's reason, "videos": n, "detail": the skip's message}
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form, stored in ``crawl_run.state``."""
        return {"next": self.next, "seq": self.seq, "outcomes": self.outcomes}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CreatorProgress:
        """The progress stored with the run's last committed creator."""
        data = data or {}
        return cls(int(data.get("next", 0)), int(data.get("seq", 0)), dict(data.get("outcomes") or {}))


@dataclass
class CreatorStep:
    """One creator's records, new members and account, with the run's state and counters after it."""

    items: list[ParsedItem]
    members: list[dict[str, Any]]
    account: AuthorRecord | None
    state: dict[str, Any]
    stats: dict[str, Any]


@dataclass
class CreatorResult:
    """How a session of a creators run ended."""

    status: str
    stop_reason: str
    stats: CrawlStats
    progress: CreatorProgress


class CatalogCreatorSink:
    """Writes each creator's step into the catalog run ``run_id`` in one transaction (an account without videos
    first: an idempotent upsert, so a kill between the two only redoes the creator)."""

    def __init__(self, engine: Engine, run_id: int, observed_at: Callable[[], Any] | None = None,
                 extra_state: Mapping[str, Any] | None = None) -> None:
        self.engine, self.run_id, self.observed_at = engine, run_id, observed_at
        self.extra_state = dict(extra_state or {})

    def commit(self, step: CreatorStep) -> None:
        """Stores one creator's step."""
        from db.catalog import write_authors
        from db.crawl_state import commit_steps

        at = self.observed_at() if self.observed_at is not None else None
        if step.account is not None and not step.items:
            write_authors(self.engine, [step.account], at)
        commit_steps(self.engine, self.run_id, items=step.items, members=step.members, edges=[], expanded=[],
                     state={**step.state, **self.extra_state}, stats=step.stats, observed_at=at)

    def finish(self, status: str, stop_reason: str, stats: Mapping[str, Any]) -> None:
        """Records how the session ended."""
        from db.crawl_state import finish_run

        finish_run(self.engine, self.run_id, status, stop_reason, stats)


class CreatorCrawler(PacedCalls):
    """Lists the creators of a run, one step per creator, over a source and a sink."""

    def __init__(self, source: Source, sink: Any, params: CreatorParams, progress: CreatorProgress | None = None,
                 stats: CrawlStats | None = None, politeness: Politeness | None = None, members: set[str] | None = None,
                 time_budget: float | None = None, on_step: Callable[[CreatorCrawler], None] | None = None,
                 redact: Callable[[str], str] = str, stop_requested: Callable[[], bool] = lambda: False,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.source, self.sink, self.params = source, sink, params
        self.progress = progress or CreatorProgress()
        self.stats = stats or CrawlStats()
        self.politeness = politeness or Politeness()
        #: video ids already members of the run (a video two creators list joins once)
        self.members = members if members is not None else set()
        self.time_budget, self.on_step, self.redact, self.stop_requested = time_budget, on_step, redact, stop_requested
        self._clock = clock
        self._limiter = RateLimiter(self.politeness.rate, self.politeness.jitter, clock, sleep)
        self._retry = RetryPolicy(self.politeness, sleep, stop_requested)
        self._carried_retries = Counter(self.stats.retries)
        self._started = self._last_tick = clock()

    def run(self) -> CreatorResult:
        """Lists creators until all are done or the run must stop; the sink records how the session ended."""
        with session_outcome(self.politeness.attempts, self.stop_requested, self._record_end) as end:
            end.status, end.reason = self._run()
        return CreatorResult(end.status, end.reason, self.stats, self.progress)

    def _record_end(self, end: Outcome) -> None:
        self._tick()
        end.reason = self.redact(end.reason)
        self.sink.finish(end.status, end.reason, self.stats.as_dict())

    def _run(self) -> tuple[str, str]:
        handles = self.params.handles
        while self.progress.next < len(handles):
            if self.stop_requested():
                return "interrupted", "interrupted by the user"
            if self.time_budget is not None and self._clock() - self._started >= self.time_budget:
                return "interrupted", f"time budget of {self.time_budget:g} s reached"
            self._creator(handles[self.progress.next])
        return "finished", "every creator listed"

    def _creator(self, handle: str) -> None:
        try:
            items, account = self._confirmed(handle)
            outcome: dict[str, Any] = {"outcome": LISTED, "videos": len(items)}
        except Skip as exc:
            items, account = [], None
            outcome = {"outcome": exc.reason, "videos": 0, "detail": self.redact(str(exc))}
            self.stats.skips[exc.reason] += 1
        members = []
        for item in items:
            if item.video.id not in self.members:
                self.members.add(item.video.id)
                members.append({"video_id": item.video.id, "seq": self.progress.seq, "depth": 0, "parent_id": None})
                self.progress.seq += 1
            self.stats.missing.update(item.missing)
        self.progress.outcomes[handle] = outcome
        self.progress.next += 1
        self.stats.expanded += 1
        self._commit(CreatorStep(items, members, account, {}, {}))

    def _confirmed(self, handle: str) -> tuple[list[ParsedItem], AuthorRecord | None]:
        """The creator's videos; an account found missing or private is asked once more before it is recorded so."""
        try:
            return self._videos(handle)
        except Withheld:
            raise
        except Skip:
            self._retry.retries["confirm_skip"] += 1
            return self._videos(handle)

    def _videos(self, handle: str) -> tuple[list[ParsedItem], AuthorRecord | None]:
        """Up to ``max_videos`` distinct videos of the creator, newest first, at most MAX_PAGES pages."""
        found: dict[str, ParsedItem] = {}
        account: AuthorRecord | None = None
        cursor: str | int | None = None
        for _ in range(MAX_PAGES):
            page = self._fetch(lambda c=cursor: self.source.author_videos(handle, PAGE_SIZE, c))
            account = page.author or account
            fresh = [i for i in page.items if i.video.id not in found]
            found.update((i.video.id, i) for i in fresh[: self.params.max_videos - len(found)])
            # a page of known videos only is the list repeating itself; an empty page may be an empty date window
            if len(found) >= self.params.max_videos or not page.has_more or (page.items and not fresh):
                break
            cursor = page.cursor
        return list(found.values()), account

    def _commit(self, step: CreatorStep) -> None:
        self.stats.retries = self._carried_retries + self._retry.retries
        self._tick()
        step.state, step.stats = self.progress.as_dict(), self.stats.as_dict()
        self.sink.commit(step)
        if self.on_step is not None:
            self.on_step(self)


# ---- runs in the catalog ------------------------------------------------------------------------


def start_creators_run(engine: Engine, source: str, base_url: str | None, params: CreatorParams,
                       options: Mapping[str, Any]) -> RunRecord:
    """Creates a creators run (its params under ``creators``); ``options`` are already free of secrets."""
    from db.crawl_state import create_run, load_run

    run_id = create_run(engine, source, base_url, {"creators": params.as_dict(), **options}, CreatorProgress().as_dict())
    return load_run(engine, run_id)


def is_creators_run(engine: Engine, run: int | str) -> bool:
    """True when ``run`` (an id or ``latest``) is a creators run."""
    from db.crawl_state import load_run

    return "creators" in load_run(engine, run).params


def open_creators_run(engine: Engine, run: int | str) -> RunRecord:
    """A creators run to resume: it must exist, be unfinished and not be running elsewhere."""
    from scrapers.runs import open_kind

    return open_kind(engine, run, "creators", "creators run", lambda rid: f"run {rid} is not a creators run")


def creators_run(engine: Engine, record: RunRecord, source: Source, politeness: Politeness,
                 time_budget: float | None = None, on_step: Callable[[CreatorCrawler], None] | None = None,
                 redact: Callable[[str], str] = str, stop_requested: Callable[[], bool] = lambda: False,
                 observed_at: Callable[[], Any] | None = None) -> CreatorResult:
    """Runs (or resumes) a catalog-held creators run from its last committed creator until it stops."""
    from db.crawl_state import load_members, mark_running, owner

    members = {row["video_id"] for row in load_members(engine, record.id)}
    mark_running(engine, record.id, {**record.state, "owner": owner()})
    crawler = CreatorCrawler(
        source, CatalogCreatorSink(engine, record.id, observed_at, {"owner": owner()}),
        CreatorParams.from_dict(record.params["creators"]), CreatorProgress.from_dict(record.state),
        CrawlStats.from_dict(record.stats), politeness, members, time_budget, on_step, redact, stop_requested,
    )
    return crawler.run()


def outcome_counts(progress: CreatorProgress) -> dict[str, int]:
    """Creators by outcome (``listed``, ``not_found``, ``private_account`` …), most common first."""
    return dict(Counter(o["outcome"] for o in progress.outcomes.values()).most_common())
