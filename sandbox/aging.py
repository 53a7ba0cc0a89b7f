"""Time in the sandbox: a clock the tests can move, counts that grow with a video's age, videos that go.

The world's drawn counts (``world.videos``) are its counts at the reference date;
the clock starts there, so a world nobody moves answers exactly as before. Moved
on (``world.clock.advance(3600)``, or ``POST /__sandbox/clock?advance=3600``), each
video's counts follow its own growth curve, the share of its lifetime counts
reached at age ``a``::

    g(a) = s · (1 − exp(−a / τ_fast)) + (1 − s) · (1 − exp(−a / τ_slow))

so that ``counts(t) = drawn · g(age at t) / g(age at the reference date)``: never
smaller later, equal to the drawn counts at the reference date. ``τ_fast`` (hours)
and ``s`` are drawn per video from the world's seed, and tied to the planted
latent score: content that engages grows faster and earlier, so early growth
carries the same signal as the final counts. A small share of public videos is
deleted at a drawn time after the reference date (``gone_at``); before it they
answer as usual, after it as deleted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

COUNT_COLUMNS = ("plays", "likes", "comments", "shares", "saves")
#: where the random draws of aging come from (``SeedSequence([seed, S_AGING])``)
S_AGING = 9
#: typical hours of the fast phase, its spread, and how strongly the latent score speeds it up
FAST_HOURS, FAST_SPREAD, FAST_SIGNAL = 20.0, 0.45, 0.6
#: typical days of the slow tail
SLOW_DAYS, SLOW_SPREAD = 45.0, 0.3
#: share of the fast phase: typical, spread, pull of the latent score
FAST_SHARE, SHARE_SPREAD, SHARE_SIGNAL = 0.75, 0.08, 0.08
#: share of public videos deleted after the reference date, and the mean days until they go
GONE_SHARE, GONE_MEAN_DAYS = 0.03, 12.0
#: ages below a minute count as a minute (a video posted at the reference instant has counts)
MIN_AGE_S = 60.0


class ClockError(ValueError):
    """The clock was asked to go where it cannot: before the world's reference date."""


class SandboxClock:
    """The sandbox's "now" (UTC seconds): starts at the reference date, moves only when told to."""

    def __init__(self, start: float) -> None:
        self.start = float(start)
        self._now = float(start)
        self._lock = threading.Lock()
        #: bumped on every move, so that caches of served payloads know to rebuild
        self.version = 0

    def now(self) -> float:
        """The current time, UTC seconds since the epoch."""
        return self._now

    def timestamp(self) -> pd.Timestamp:
        """The current time as a UTC timestamp."""
        return pd.Timestamp(self._now, unit="s", tz="UTC")

    def set(self, when: float) -> float:
        """Moves the clock to ``when`` (not before the reference date); returns it."""
        if when < self.start:
            raise ClockError(f"the sandbox clock cannot go before its reference date ({self.start:.0f})")
        with self._lock:
            self._now = float(when)
            self.version += 1
        return self._now

    def advance(self, seconds: float) -> float:
        """Moves the clock ``seconds`` forward; returns the new time."""
        if seconds < 0:
            raise ClockError("the sandbox clock only moves forward")
        return self.set(self._now + seconds)


@dataclass(frozen=True)
class Growth:
    """Per-video growth parameters and deletion times, as arrays over the world's rows."""

    create: np.ndarray
    tau_fast: np.ndarray
    tau_slow: np.ndarray
    fast_share: np.ndarray
    gone_at: np.ndarray
    reference: float

    @classmethod
    def draw(cls, videos: pd.DataFrame, seed: int, reference: float) -> Growth:
        """Draws every video's curve from ``seed`` (its own stream) and its planted latent score."""
        n = len(videos)
        rng = np.random.default_rng(np.random.SeedSequence([seed, S_AGING]))
        latent = videos["latent_score"].to_numpy(dtype=float) if "latent_score" in videos else np.zeros(n)
        latent = np.nan_to_num(latent, nan=0.0)
        spread = latent.std() or 1.0
        z = (latent - latent.mean()) / spread
        hours = FAST_HOURS * np.exp(-FAST_SIGNAL * z + FAST_SPREAD * rng.standard_normal(n))
        share = np.clip(FAST_SHARE + SHARE_SIGNAL * np.tanh(z) + SHARE_SPREAD * rng.standard_normal(n), 0.4, 0.95)
        slow = SLOW_DAYS * 86_400 * np.exp(SLOW_SPREAD * rng.standard_normal(n))
        public = videos["visibility"].to_numpy() == "public"
        goes = public & (rng.random(n) < GONE_SHARE)
        when = reference + rng.exponential(GONE_MEAN_DAYS * 86_400, n)
        return cls(
            create=videos["create_time"].to_numpy(dtype=float),
            tau_fast=np.clip(hours, 1.0, 240.0) * 3600.0,
            tau_slow=slow,
            fast_share=share,
            gone_at=np.where(goes, when, np.inf),
            reference=float(reference),
        )

    def curve(self, rows: np.ndarray | int, age_s: np.ndarray | float) -> np.ndarray:
        """``g(age)``: the share of its lifetime counts a video has reached at ``age_s`` seconds."""
        age = np.maximum(np.asarray(age_s, dtype=float), MIN_AGE_S)
        s = self.fast_share[rows]
        return s * -np.expm1(-age / self.tau_fast[rows]) + (1 - s) * -np.expm1(-age / self.tau_slow[rows])

    def factor(self, rows: np.ndarray | int, now: float) -> np.ndarray:
        """How much the counts at ``now`` are of the drawn ones (exactly 1 at the reference date)."""
        if now == self.reference:
            return np.ones(np.shape(rows))
        created = self.create[rows]
        return self.curve(rows, now - created) / self.curve(rows, self.reference - created)

    def counts(self, drawn: dict[str, list], row: int, now: float) -> dict[str, int]:
        """The five counts of ``row`` at ``now`` (``drawn``: the world's count columns)."""
        if now == self.reference:
            return {c: int(drawn[c][row]) for c in COUNT_COLUMNS}
        factor = float(self.factor(row, now))
        return {c: int(drawn[c][row] * factor) for c in COUNT_COLUMNS}

    def gone(self, row: int, now: float) -> bool:
        """True once the video was deleted (its ``gone_at`` has passed)."""
        return bool(self.gone_at[row] <= now)


def clock_reply(clock: SandboxClock, query: dict[str, str]):
    """``/__sandbox/clock``: the time now; ``?advance=SECONDS`` or ``?set=UTC_SECONDS|ISO`` moves it first."""
    import orjson

    from sandbox.routes import Reply

    try:
        if "advance" in query:
            clock.advance(float(query["advance"]))
        elif "set" in query:
            value = query["set"]
            clock.set(float(value) if value.replace(".", "", 1).isdigit() else pd.Timestamp(value, tz="UTC").timestamp())
    except (ValueError, ClockError) as exc:
        return Reply(400, orjson.dumps({"error": str(exc)}))
    return Reply(body=orjson.dumps({"now": clock.now(), "iso": clock.timestamp().isoformat()}))
