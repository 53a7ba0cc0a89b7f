"""Which video the crawl expands next: a uniform draw among the members not expanded yet.

Seed 001 says "pick a video already in this crawl uniformly at random". Drawing
among *all* members would keep landing on videos already expanded (each may be
expanded once), wasting draws or, read literally, repeating work. We draw
uniformly among the members that can still be expanded — not expanded yet and
above ``max_depth`` — which is the same distribution conditioned on the draw
being useful, and guarantees that every step makes progress.

The pool is kept in join order (``seq``) and the draw is an index into it made
by the run's own numpy generator, so the whole crawl is a function of
``--random-seed`` and of what the site answers. Its state is a few numbers
(``state()``) that the sink commits with each step; ``restore`` rebuilds the
frontier from the catalog's membership rows and that state, bit for bit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True, slots=True)
class Member:
    """A video's place in a crawl: the order it joined, its depth, who led to it."""

    video_id: str
    seq: int
    depth: int
    parent_id: str | None = None
    expanded: bool = False


class Frontier(Protocol):
    """Membership of a crawl and the choice of what to expand next."""

    def __len__(self) -> int: ...

    def __contains__(self, video_id: object) -> bool: ...

    def admit(self, video_ids: Sequence[str], parent_id: str | None, limit: int) -> list[Member]:
        """Adds the ids not yet members (at most ``limit``), one level below the parent; returns them."""
        ...

    def pick(self) -> str | None:
        """The next video to expand, now marked expanded; None when nothing can be expanded."""
        ...

    def depth(self, video_id: str) -> int:
        """A member's depth (0 for feed seeds)."""
        ...

    def state(self) -> dict[str, Any]:
        """What ``restore`` needs beyond the membership rows, as JSON-safe values."""
        ...


class RandomFrontier:
    """The in-memory frontier: members by id, the expandable pool in join order, a seeded generator."""

    def __init__(self, random_seed: int, max_depth: int | None = None) -> None:
        self.max_depth = max_depth
        self._rng = np.random.Generator(np.random.PCG64(random_seed))
        self._members: dict[str, Member] = {}
        self._pool: list[str] = []

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._members

    def _expandable(self, member: Member) -> bool:
        return not member.expanded and (self.max_depth is None or member.depth < self.max_depth)

    def admit(self, video_ids: Sequence[str], parent_id: str | None, limit: int) -> list[Member]:
        """Adds the ids not yet members (at most ``limit``), one level below the parent; returns them."""
        depth = 0 if parent_id is None else self._members[parent_id].depth + 1
        joined: list[Member] = []
        for vid in dict.fromkeys(video_ids):
            if len(joined) >= limit:
                break
            if vid in self._members:
                continue
            member = Member(vid, len(self._members), depth, parent_id)
            self._add(member)
            joined.append(member)
        return joined

    def _add(self, member: Member) -> None:
        self._members[member.video_id] = member
        if self._expandable(member):
            self._pool.append(member.video_id)

    def pick(self) -> str | None:
        """The next video to expand, drawn uniformly from the pool and marked expanded."""
        if not self._pool:
            return None
        vid = self._pool.pop(int(self._rng.integers(len(self._pool))))
        m = self._members[vid]
        self._members[vid] = Member(m.video_id, m.seq, m.depth, m.parent_id, expanded=True)
        return vid

    def depth(self, video_id: str) -> int:
        """A member's depth (0 for feed seeds)."""
        return self._members[video_id].depth

    @property
    def pool_size(self) -> int:
        """Members that can still be expanded."""
        return len(self._pool)

    def depth_histogram(self) -> dict[int, int]:
        """Members per depth."""
        return dict(sorted(Counter(m.depth for m in self._members.values()).items()))

    def members(self) -> list[Member]:
        """All members in join order."""
        return sorted(self._members.values(), key=lambda m: m.seq)

    def stop_reason(self) -> str:
        """Why the pool is empty: ``max_depth`` when members wait below the limit, else ``exhausted``."""
        waiting = any(not m.expanded for m in self._members.values())
        return "max_depth" if waiting and self.max_depth is not None else "exhausted"

    def state(self) -> dict[str, Any]:
        """The generator's exact state; its 128-bit numbers as strings (JSON and orjson stop at 64 bits)."""
        raw = self._rng.bit_generator.state
        return {
            "bit_generator": raw["bit_generator"],
            "state": {k: str(v) for k, v in raw["state"].items()},
            "has_uint32": int(raw["has_uint32"]),
            "uinteger": int(raw["uinteger"]),
        }

    def set_rng_state(self, state: dict[str, Any] | None) -> None:
        """Puts the generator where a stored run left it (JSON turned its big integers into text); None keeps it fresh."""
        if state:
            self._rng.bit_generator.state = dict(state, state={k: int(v) for k, v in state["state"].items()})

    @classmethod
    def restore(
        cls, members: Iterable[Member], state: dict[str, Any] | None, random_seed: int, max_depth: int | None = None
    ) -> RandomFrontier:
        """The frontier a run had after its last committed step."""
        frontier = cls(random_seed, max_depth)
        frontier.set_rng_state(state)
        for member in sorted(members, key=lambda m: m.seq):
            frontier._add(member)
        return frontier
