"""Injected faults: which request fails how, decided by (fault seed, request key, attempt number).

A fault plan is a rate per kind (``"429:0.1,5xx:0.05,captcha:0.01"``). For each
request the site computes one uniform from a hash of the fault seed, the request's
key (path plus the query parameters that name what is asked — not tokens or
signatures) and how many times that key was asked before, and picks a kind by the
cumulative rates. So the same crawl meets the same faults, a retry gets a fresh
draw, and a transient fault clears after a few retries. Kinds that do not apply to
an endpoint (a truncated body on a JSON call) mean no fault there.

The kinds, where each can strike and the public report each copies live in
:mod:`sandbox.fault_kinds`; a spec may also name a profile (``realistic``), alone or
with rates that override it (``realistic,429:0.05``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import ConfigError

from sandbox.fault_kinds import APPLICABLE, BLOCKING, FAULT_KINDS, PROFILES, SOFT, TRANSIENT  # noqa: F401 - the registry

#: query parameters that say what is asked; everything else (tokens, signatures, device ids) is noise
KEY_PARAMS = ("itemID", "itemId", "id", "uniqueId", "secUid", "count", "cursor", "from_page")
BLOCK_MODES = ("captcha", "empty")


@dataclass(frozen=True)
class FaultPlan:
    """Rates per fault kind, the seed of the draws, the slow delay and the blocked-session threshold."""

    rates: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    slow_s: float = 1.5
    #: after this many API and page requests a session is blocked (None: never)
    block_after: int | None = None
    block_with: str = "captcha"
    #: seconds a 429 asks the client to wait (its ``Retry-After``)
    retry_after_s: float = 1.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.rates) - set(FAULT_KINDS))
        if unknown:
            raise ConfigError(f"unknown fault kind {', '.join(unknown)}; known: {', '.join(FAULT_KINDS)}")
        if any(not 0 <= r <= 1 for r in self.rates.values()) or sum(self.rates.values()) > 1 + 1e-9:
            raise ConfigError(f"fault rates must be between 0 and 1 and sum to at most 1: {self.describe()}")
        if self.block_with not in BLOCK_MODES:
            raise ConfigError(f"--block-with must be one of {', '.join(BLOCK_MODES)}")
        if self.block_after is not None and self.block_after < 0:
            raise ConfigError("--block-after must be 0 or more")

    @classmethod
    def parse(cls, spec: str | Mapping[str, float] | FaultPlan | None, **options: Any) -> FaultPlan:
        """A plan from ``"429:0.1,5xx:0.05"`` (or a mapping, or a plan, or None for no faults)."""
        if isinstance(spec, FaultPlan):
            return spec
        if spec is None or isinstance(spec, Mapping):
            return cls(dict(spec or {}), **options)
        rates: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            if part in PROFILES:
                rates.update(PROFILES[part])
                continue
            name, sep, value = part.partition(":")
            try:
                rates[name.strip()] = float(value)
            except ValueError:
                raise ConfigError(f"bad fault {part!r}: write KIND:RATE, e.g. 429:0.1, or a profile: {', '.join(PROFILES)}") from None
            if not sep:
                raise ConfigError(f"bad fault {part!r}: write KIND:RATE, e.g. 429:0.1, or a profile: {', '.join(PROFILES)}")
        return cls(rates, **options)

    def describe(self) -> str:
        """The plan as its spec string (kinds in a fixed order)."""
        return ",".join(f"{k}:{self.rates[k]:g}" for k in FAULT_KINDS if self.rates.get(k))

    def draw(self, key: str, attempt: int, endpoint_class: str) -> str | None:
        """The fault for the ``attempt``-th asking of ``key`` on that class of endpoint, or None."""
        if not self.rates:
            return None
        u = uniform(self.seed, key, attempt)
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += self.rates.get(kind, 0.0)
            if u < edge:
                return kind if kind in APPLICABLE.get(endpoint_class, ()) else None
        return None


def uniform(seed: int, key: str, attempt: int) -> float:
    """A uniform in [0, 1) that depends only on its arguments."""
    digest = hashlib.blake2b(f"{seed}\x1f{key}\x1f{attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def request_key(path: str, query: Mapping[str, str]) -> str:
    """What a request asks for: its path and the parameters that name the thing (sorted)."""
    named = [f"{k}={query[k]}" for k in KEY_PARAMS if k in query]
    return f"{path}?{'&'.join(sorted(named))}" if named else path


class SiteStats:
    """Thread-safe counters of what the site served; ``snapshot()`` is a plain dict."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zeroes every counter."""
        with self._lock:
            self._endpoints: Counter[str] = Counter()
            self._statuses: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()
            self._blocked = 0
            self._bytes = 0
            self._errors: list[str] = []
            self._busy = 0.0

    def request(self, endpoint: str) -> None:
        """Counts one request to ``endpoint``."""
        with self._lock:
            self._endpoints[endpoint] += 1

    def answered(self, status: int, size: int) -> None:
        """Counts one response."""
        with self._lock:
            self._statuses[str(status)] += 1
            self._bytes += size

    def busy(self, seconds: float) -> None:
        """Adds the time the site spent making one answer (injected delays excluded)."""
        with self._lock:
            self._busy += seconds

    def fault(self, kind: str) -> None:
        """Counts one injected fault."""
        with self._lock:
            self._faults[kind] += 1

    def blocked(self) -> None:
        """Counts one answer refused because the session is blocked."""
        with self._lock:
            self._blocked += 1

    def error(self, message: str) -> None:
        """Records an answer the site failed to make (kept: the last 20)."""
        with self._lock:
            self._errors = [*self._errors[-19:], message]

    def snapshot(self) -> dict[str, Any]:
        """``{requests, endpoints, statuses, faults, faults_total, blocked, bytes_sent, busy_s, errors}``."""
        with self._lock:
            return {
                "requests": sum(self._endpoints.values()),
                "endpoints": dict(self._endpoints),
                "statuses": dict(self._statuses),
                "faults": dict(self._faults),
                "faults_total": sum(self._faults.values()),
                "blocked": self._blocked,
                "bytes_sent": self._bytes,
                "busy_s": round(self._busy, 6),
                "errors": list(self._errors),
            }


class Attempts:
    """How many times each request key was asked, and how many requests each session made."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: Counter[str] = Counter()
        self._sessions: Counter[str] = Counter()

    def next_attempt(self, key: str) -> int:
        """0 the first time ``key`` is asked, then 1, 2 …"""
        with self._lock:
            attempt = self._keys[key]
            self._keys[key] += 1
            return attempt

    def session_request(self, session: str) -> int:
        """Counts one request of ``session``; returns how many it has made, this one included."""
        with self._lock:
            self._sessions[session] += 1
            return self._sessions[session]

    def unblock(self) -> None:
        """Forgets the sessions' request counts (blocked sessions start afresh)."""
        with self._lock:
            self._sessions.clear()
