"""The creators of a query run's videos, filled in from the Research API's ``/v2/research/user/info/``.

The video query names each video's ``username`` but no follower count, and ER needs one. After a query run,
each distinct creator of its videos whose followers are still unknown is asked once (so a resumed or repeated
run asks only for those still missing); the answers are stored as observed counts (``stats_provenance`` =
observed), ``FLUSH`` accounts a transaction, together with the requests and records they spent in the quota
ledger. The day's quota is respected as the query's is: once spent, the filling stops and says so (a later
``curate query --resume`` asks for the rest: the run is left blocked). An account the API does not show
(404: it does not exist, or is private) is counted by that reason and left without counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.records import AuthorRecord
from scrapers.backends.research_api import QuotaExhausted, ResearchApiSource
from scrapers.politeness import Politeness, RateLimiter, RetryPolicy
from scrapers.source import Blocked, NotFound, SourceError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: accounts stored per transaction
FLUSH = 50


@dataclass
class AuthorFill:
    """What filling a run's creators did: accounts asked, filled, skipped by reason, requests, why it stopped."""

    pending: int = 0
    asked: int = 0
    filled: int = 0
    requests: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    #: None when every pending creator was asked; else ``quota``, ``blocked`` or ``interrupted``, with ``detail``
    stopped: str | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form (the query summary's ``user_info``)."""
        return {"pending": self.pending, "asked": self.asked, "filled": self.filled, "requests": self.requests,
                "skipped": dict(self.skipped), "stopped": self.stopped, "detail": self.detail}


class AuthorFiller:
    """Asks ``/user/info/`` for a run's creators without counts and stores the answers with their quota."""

    def __init__(self, engine: Engine, source: ResearchApiSource, daily_requests: int, daily_records: int,
                 day: Callable[[], str], politeness: Politeness | None = None,
                 stop_requested: Callable[[], bool] = lambda: False,
                 on_author: Callable[[AuthorFill], None] | None = None) -> None:
        self.engine, self.source, self.client = engine, source, source.client
        self.daily_requests, self.daily_records, self.day = daily_requests, daily_records, day
        self.politeness = politeness or Politeness(rate=0)
        self.stop_requested, self.on_author = stop_requested, on_author
        self._limiter = RateLimiter(self.politeness.rate, self.politeness.jitter)
        self._retry = RetryPolicy(self.politeness, stop_requested=stop_requested)
        self._found: list[AuthorRecord] = []
        self._spent: Counter[str] = Counter()
        self._exhausted = False

    def fill(self, run_id: int) -> AuthorFill:
        """Asks for every creator of run ``run_id`` still without a follower count (until the quota or a block stops it)."""
        from db.quota import run_authors_without_counts

        handles = run_authors_without_counts(self.engine, run_id)
        result = AuthorFill(pending=len(handles))
        try:
            for handle in handles:
                if self._must_stop(result):
                    break
                self._ask(handle, result)
                if self.on_author is not None:
                    self.on_author(result)
                if len(self._found) >= FLUSH:
                    self._commit()
        finally:
            self._commit()
        return result

    def _must_stop(self, result: AuthorFill) -> bool:
        if self.stop_requested():
            result.stopped, result.detail = "interrupted", "interrupted by the user"
        elif self._exhausted or not self._quota_left():
            result.stopped = "quota"
            result.detail = f"the Research API's daily quota for {self.day()} is spent: the other creators' user info waits"
        return result.stopped is not None

    def _ask(self, handle: str, result: AuthorFill) -> None:
        self._limiter.wait()
        sent = self.client.data_requests
        try:
            self._found.append(self._retry.call(lambda: self.source.author(handle)))
            self._spent["records"] += 1
            result.filled += 1
        except NotFound:
            result.skipped["not_found_or_private"] += 1
        except QuotaExhausted as exc:
            self._exhausted = True
            result.stopped, result.detail = "quota", str(exc)
        except Blocked as exc:
            result.stopped, result.detail = "blocked", self.client.credentials.redact(str(exc))
        except SourceError as exc:
            result.skipped[exc.reason] += 1
        finally:
            result.asked += 1
            self._spent["requests"] += self.client.data_requests - sent
            result.requests += self.client.data_requests - sent

    def _quota_left(self) -> bool:
        from db.quota import quota_spent

        spent = quota_spent(self.engine, self.client.api_name, self.day())
        return (not spent.exhausted and spent.requests + self._spent["requests"] < self.daily_requests
                and spent.records + self._spent["records"] < self.daily_records)

    def _commit(self) -> None:
        from db.quota import QuotaDelta, commit_authors

        delta = QuotaDelta(self.client.api_name, self.day(), self._spent["requests"], self._spent["records"], self._exhausted)
        commit_authors(self.engine, self._found, delta)
        self._found, self._spent = [], Counter()
