"""Being a good guest: a request rate with jitter, and retries with exponential back-off.

The limiter spaces requests ``1 / rate`` seconds apart plus a random share of that
interval, so that a crawl never bursts and never beats a regular rhythm a server
could spot. Retries use tenacity: transient failures (5xx, timeouts, dropped
connections, cut JSON) and 429s are retried with exponential back-off and full
jitter; a 429's ``Retry-After`` is honoured. Neither uses the crawl's own random
generator, so pacing and retries never change which videos a crawl picks.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, stop_after_attempt, wait_exponential_jitter

from scrapers.answers import SOFT_BLOCK_ATTEMPTS
from scrapers.source import Page, RateLimited, SoftBlocked, TransientError

T = TypeVar("T")

#: requests per second on the real site when ``--rate`` is not given: one every two seconds
REAL_SITE_RATE = 0.5


@dataclass(frozen=True)
class Politeness:
    """How fast to ask and how hard to insist."""

    #: requests per second; 0 turns the limit off
    rate: float = REAL_SITE_RATE
    #: up to this share of the interval is added at random to each wait
    jitter: float = 0.5
    #: attempts per request before a transient failure stops the run
    attempts: int = 6
    #: first back-off in seconds; doubles each attempt, up to ``backoff_max``
    backoff: float = 1.0
    backoff_max: float = 60.0
    #: seconds one request may take before it counts as a timeout
    timeout: float = 30.0


class RateLimiter:
    """Blocks until the next request may go, ``1 / rate`` seconds (plus jitter) after the last."""

    def __init__(
        self, rate: float, jitter: float = 0.5, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.jitter = jitter
        self._clock, self._sleep = clock, sleep
        self._random = random.Random()
        self._next = 0.0
        #: seconds spent waiting, for the summary
        self.waited = 0.0

    def wait(self) -> None:
        """Sleeps as long as politeness asks; returns at once when the limit is off."""
        if not self.interval:
            return
        now = self._clock()
        if now < self._next:
            self._sleep(self._next - now)
            self.waited += self._next - now
        self._next = max(now, self._next) + self.interval * (1 + self.jitter * self._random.random())


class RetryPolicy:
    """Runs a call, retrying transient failures; counts every retry by its reason."""

    def __init__(
        self, politeness: Politeness, sleep: Callable[[float], None] = time.sleep, stop_requested: Callable[[], bool] = lambda: False
    ) -> None:
        self.politeness = politeness
        self._sleep = sleep
        #: once True, failures are no longer retried (the user asked the crawl to stop)
        self._stop_requested = stop_requested
        self._backoff = wait_exponential_jitter(multiplier=politeness.backoff, max=politeness.backoff_max, jitter=politeness.backoff)
        #: retries so far, by the failure's reason (``http_429``, ``http_503``, ``timeout`` …)
        self.retries: Counter[str] = Counter()

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()``, retried on TransientError (a soft block at most ``SOFT_BLOCK_ATTEMPTS`` times in all);
        the last failure is re-raised when attempts run out."""
        retrying = Retrying(
            retry=self._retryable,
            stop=stop_after_attempt(self.politeness.attempts),
            wait=self._wait,
            before_sleep=self._count,
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(fn)

    def _retryable(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if not isinstance(exc, TransientError) or self._stop_requested():
            return False
        if isinstance(exc, SoftBlocked) and state.attempt_number >= SOFT_BLOCK_ATTEMPTS:
            return False
        return True

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        wait = self._backoff(state)
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            wait = max(wait, min(exc.retry_after, self.politeness.backoff_max))
        return wait

    def _count(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.retries[getattr(exc, "reason", "transient")] += 1

    @property
    def total(self) -> int:
        """All retries so far."""
        return sum(self.retries.values())


class PacedCalls:
    """A run's calls to its source: each waits its turn (``self._limiter``), is retried (``self._retry``) and
    is counted into ``self.stats``: requests, seconds in the source, the parser's share, payload skips;
    and the run's wall time, counted up to each :meth:`_tick` from ``self._last_tick``."""

    def _tick(self) -> None:
        now = self._clock()
        self.stats.wall_s += now - self._last_tick
        self._last_tick = now

    def _fetch(self, call: Callable[[], Page]) -> Page:
        """One source call that answers a page: paced, retried, counted; its payload skips counted."""
        page = self._call(call)
        self.stats.payload_skips.update(page.skipped)
        return page

    def _call(self, call: Callable[[], T]) -> T:
        """One source call: paced, retried, counted."""
        return self._retry.call(lambda: self._counted(call))

    def _counted(self, call: Callable[[], T]) -> T:
        self._limiter.wait()
        before_requests, before_parse = self.source.stats.requests, self.source.stats.parse_s
        start = self._clock()
        try:
            return call()
        finally:
            self.stats.source_s += self._clock() - start
            self.stats.requests += self.source.stats.requests - before_requests
            self.stats.parse_s += self.source.stats.parse_s - before_parse
