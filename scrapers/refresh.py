"""Re-observing catalogued videos as they reach the ages of a schedule (``curate refresh``).

Popularity studies define their target as views at day N or growth between ages,
and history cannot be fetched later: it must be collected going forward. A video
is **due** when it has reached an age of the schedule (default 1 h, 24 h, 48 h,
7 d, 30 d after posting) and was not observed since it reached it. Due-ness is
read from the catalog's observations, so a refresh killed anywhere simply finds
the rest still due. Each due video is fetched with one request through any
source that can fetch one video (``Source.video``), paced and retried like a
crawl, and its counts are written as a time-stamped observation; a video the
platform no longer shows is recorded as gone with the time it was noticed.

Time is the platform's: the caller passes a clock (the site's ``Date`` header
plus the time elapsed since), so the ages are right against the sandbox too.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.errors import ConfigError
from scrapers.politeness import PacedCalls, Politeness, RateLimiter, RetryPolicy
from scrapers.source import Blocked, NotFound, Private, Skip, Source, SourceError, TransientError, Withheld

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DEFAULT_SCHEDULE = "1h,24h,48h,7d,30d"
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
#: observations written per transaction: at most this many, or this many seconds' worth (a kill redoes at most
#: those; they are still due). A batch's statements cost the same for 50 rows as for 500 (0.4–0.65 ms a video
#: at 50, 0.08 ms at 500, measured on SQLite), so batches are large.
FLUSH_EVERY = 500
FLUSH_S = 1.0
#: times a withheld video is asked before the session itself is checked (as the crawl does)
WITHHELD_ATTEMPTS = 3


def parse_schedule(text: str) -> list[tuple[str, float]]:
    """``"1h,24h,7d"`` → ``[("1h", 3600.0), …]``, sorted by age; a clean error otherwise."""
    ages = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _AGE.match(part)
        if not match:
            raise ConfigError(f"--schedule {text!r}: give ages such as 1h,24h,48h,7d,30d (units m, h, d, w)")
        ages.append((part, float(match.group(1)) * _UNITS[match.group(2)]))
    if not ages:
        raise ConfigError("--schedule is empty: give ages such as 1h,24h,48h,7d,30d")
    return sorted(ages, key=lambda a: a[1])


def due_table(candidates: pd.DataFrame, schedule: list[tuple[str, float]], now: datetime) -> pd.DataFrame:
    """Every candidate with ``due`` (now), ``age`` (the schedule age it is due for), ``due_at``, ``next_age``, ``next_at``."""
    frame = candidates.copy()
    seconds = np.array([s for _, s in schedule])
    labels = np.array([label for label, _ in schedule], dtype=object)
    created = frame["create_time"].to_numpy(dtype="datetime64[ns]").astype("int64") / 1e9
    last = frame["last_observed"].to_numpy(dtype="datetime64[ns]")
    last_s = np.where(np.isnat(last), -np.inf, last.astype("int64") / 1e9)
    now_s = now.timestamp()
    reached = (created[:, None] + seconds[None, :]) <= now_s
    latest = np.where(reached.any(axis=1), reached.sum(axis=1) - 1, -1)
    due_at = np.where(latest >= 0, created + seconds[np.maximum(latest, 0)], np.nan)
    frame["due"] = (latest >= 0) & (last_s < due_at)
    frame["age"] = np.where(latest >= 0, labels[np.maximum(latest, 0)], None)
    frame["due_at"] = pd.to_datetime(due_at, unit="s", utc=True)
    upcoming = latest + 1
    has_next = upcoming < len(seconds)
    frame["next_age"] = np.where(has_next, labels[np.minimum(upcoming, len(seconds) - 1)], None)
    frame["next_at"] = pd.to_datetime(np.where(has_next, created + seconds[np.minimum(upcoming, len(seconds) - 1)], np.nan),
                                      unit="s", utc=True)
    return frame


@dataclass
class RefreshStats:
    """What a refresh did: videos observed, gone by reason, skipped by reason, requests and where time went."""

    due: int = 0
    observed: int = 0
    observations: int = 0
    gone: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    source_s: float = 0.0
    wait_s: float = 0.0
    parse_s: float = 0.0
    wall_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {k: dict(v) if isinstance(v, Counter) else (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


class Refresher(PacedCalls):
    """Fetches due videos one by one through a source and stores what it sees, in batches."""

    def __init__(self, engine: Engine, source: Source, source_name: str, platform_now: Callable[[], datetime],
                 politeness: Politeness | None = None, stop_requested: Callable[[], bool] = lambda: False,
                 on_video: Callable[[Refresher], None] | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.source, self.source_name, self.platform_now = engine, source, source_name, platform_now
        self.politeness = politeness or Politeness()
        self.stop_requested, self.on_video = stop_requested, on_video
        self.stats = RefreshStats()
        self._clock = clock
        self._limiter = RateLimiter(self.politeness.rate, self.politeness.jitter, clock, self._timed(sleep))
        self._retry = RetryPolicy(self.politeness, self._timed(sleep), stop_requested)
        self._observed: list[tuple[Any, datetime]] = []
        self._gone: list[tuple[str, str, datetime]] = []
        self._since = clock()

    def _timed(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        def timed(seconds: float) -> None:
            self.stats.wait_s += seconds
            sleep(seconds)

        return timed

    def run(self, due: pd.DataFrame) -> tuple[str, str]:
        """Refreshes the ``due`` rows (``video_id, handle``), oldest due first; returns (status, reason)."""
        started = self._clock()
        self.stats.due = len(due)
        status, reason = "finished", "every due video refreshed"
        try:
            for video_id, handle in zip(due["video_id"], due["handle"], strict=True):
                if self.stop_requested():
                    status, reason = "interrupted", "interrupted by the user"
                    break
                self._one(str(video_id), handle if isinstance(handle, str) else None)
                if len(self._observed) + len(self._gone) >= FLUSH_EVERY or self._clock() - self._since >= FLUSH_S:
                    self._flush()
                if self.on_video is not None:
                    self.on_video(self)
        except Blocked as exc:
            status, reason = "blocked", str(exc)
        except TransientError as exc:
            status, reason = "failed", f"gave up after {self.politeness.attempts} attempts: {exc}"
        except SourceError as exc:
            status, reason = "failed", str(exc)
        finally:
            self._flush()
            self.stats.retries.update(self._retry.retries)
            self.stats.wall_s += self._clock() - started
        return status, reason

    def _one(self, video_id: str, handle: str | None) -> None:
        for attempt in range(WITHHELD_ATTEMPTS):
            try:
                item = self._call(lambda: self.source.video(video_id, handle))
            except Withheld:
                if attempt + 1 < WITHHELD_ATTEMPTS:
                    self._retry.retries["withheld"] += 1
                    continue
                self._check_session()
                self._gone.append((video_id, "unavailable", self.platform_now()))
                self.stats.gone["unavailable"] += 1
                return
            except (NotFound, Private) as exc:
                # the Research API only says "not public any more" (reason gone); the web says deleted or private
                reason = "private" if isinstance(exc, Private) else "gone" if exc.reason == "gone" else "deleted"
                self._gone.append((video_id, reason, self.platform_now()))
                self.stats.gone[reason] += 1
                return
            except Skip as exc:
                self.stats.skipped[exc.reason] += 1
                return
            if item.metrics is None or not item.metrics.has_engagement():
                # the site withholds this creator's counts: seen, but there is nothing to observe
                self.stats.skipped["no_counts"] += 1
                return
            self._observed.append((item, self.platform_now()))
            self.stats.observed += 1
            return

    def _check_session(self) -> None:
        """A video withheld again and again is gone only if the feed still answers; else the session is blocked."""
        try:
            self._call(lambda: self.source.feed(5, None))
        except Withheld as exc:
            raise Blocked(f"IP blocked — {exc}", reason="ip_blocked") from None
        except SourceError as exc:
            if exc.reason != "unsupported":
                raise

    def _flush(self) -> None:
        from db.observations import store_refresh

        self._since = self._clock()
        if not (self._observed or self._gone):
            return
        self.stats.observations += store_refresh(self.engine, self._observed, self._gone, f"refresh:{self.source_name}")
        self._observed, self._gone = [], []
