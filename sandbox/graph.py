"""The related-video graph and the For-You order, drawn for the whole world at once with numpy.

Each video's related list mixes videos of its category (popular ones more
often), its author's other videos, a few of the world's most played ones and
some at random — enough fan-out that a crawl from the feed reaches thousands of
videos in a large world. Lists are finite (16–48 long, a few empty: the platform
has videos with no recommendations) and ordered; they may name videos that are
private or deleted since, as stale lists on the platform do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: where each related slot draws from: same category, same author, the most played, anywhere
SLOT_SOURCES = np.array([0.55, 0.10, 0.12, 0.23])
MIN_RELATED, MAX_RELATED = 16, 48
EMPTY_RATE = 0.01
#: rows drawn at a time, so a large world's candidate matrices stay small
CHUNK = 32_768


@dataclass(frozen=True)
class RelatedGraph:
    """Ordered related lists as CSR arrays: row ``i``'s list is ``targets[offsets[i]:offsets[i+1]]`` (row numbers)."""

    offsets: np.ndarray
    targets: np.ndarray

    def row(self, i: int) -> np.ndarray:
        """The related rows of row ``i``."""
        return self.targets[self.offsets[i]:self.offsets[i + 1]]

    def sizes(self) -> np.ndarray:
        """How many related videos each row has."""
        return np.diff(self.offsets)


def related_graph(videos: pd.DataFrame, rng: np.random.Generator) -> RelatedGraph:
    """Draws every video's related list (see the module's docstring for the mix)."""
    n = len(videos)
    if n < 2:
        return RelatedGraph(np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64))
    lengths = rng.integers(MIN_RELATED, MAX_RELATED + 1, n)
    lengths[rng.random(n) < EMPTY_RATE] = 0
    pools = _Pools(videos)
    lists = [_chunk(pools, rng, np.arange(start, min(start + CHUNK, n)), lengths) for start in range(0, n, CHUNK)]
    targets = np.concatenate([t for t, _ in lists])
    counts = np.concatenate([c for _, c in lists])
    return RelatedGraph(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), targets.astype(np.int64))


def _chunk(pools: _Pools, rng: np.random.Generator, rows: np.ndarray, lengths: np.ndarray):
    width = MAX_RELATED + 16  # spare draws make up for duplicates and self-links
    candidates = pools.draw(rows, rng, width)
    candidates[candidates == rows[:, None]] = -1
    candidates[_later_repeats(candidates)] = -1
    valid = candidates >= 0
    keep = valid & (np.cumsum(valid, axis=1) <= lengths[rows, None])
    return candidates[keep], keep.sum(axis=1)


class _Pools:
    """Where related videos come from: each category's and author's videos, the most played, everyone."""

    def __init__(self, videos: pd.DataFrame) -> None:
        self.n = len(videos)
        plays = videos["plays"].to_numpy(dtype=float)
        self.category = _Groups(pd.Categorical(videos["category"]).codes.astype(np.int64), np.sqrt(plays + 1.0))
        self.author = _Groups(videos["author_row"].to_numpy(dtype=np.int64), None)
        self.top = np.argsort(-plays, kind="stable")[: max(10, self.n // 20)]

    def draw(self, rows: np.ndarray, rng: np.random.Generator, width: int) -> np.ndarray:
        """``width`` candidates for each row, each slot from a source drawn by ``SLOT_SOURCES``."""
        source = rng.choice(len(SLOT_SOURCES), (len(rows), width), p=SLOT_SOURCES)
        u = rng.random((len(rows), width))
        drawn = np.stack([
            self.category.draw(rows, u),
            self.author.draw(rows, u),
            self.top[np.minimum((u * len(self.top)).astype(np.int64), len(self.top) - 1)],
            np.minimum((u * self.n).astype(np.int64), self.n - 1),
        ])
        return np.take_along_axis(drawn, source[None], axis=0)[0]


class _Groups:
    """Members of each row's group, drawn by uniforms: with probability ∝ weight, or uniformly."""

    def __init__(self, group: np.ndarray, weight: np.ndarray | None) -> None:
        self.order = np.argsort(group, kind="stable")
        ordered = group[self.order]
        self.first = np.searchsorted(ordered, group, side="left")
        self.last = np.searchsorted(ordered, group, side="right") - 1
        self.cumulative = None if weight is None else np.cumsum(weight[self.order])

    def draw(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One member of ``rows[i]``'s group per uniform in ``u[i]``."""
        first, last = self.first[rows][:, None], self.last[rows][:, None]
        if self.cumulative is None:
            position = first + np.minimum((u * (last - first + 1)).astype(np.int64), last - first)
        else:
            low = np.where(first > 0, self.cumulative[np.maximum(first - 1, 0)], 0.0)
            target = low + u * (self.cumulative[last] - low)
            position = np.clip(np.searchsorted(self.cumulative, target, side="right"), first, last)
        return self.order[position]


def _later_repeats(matrix: np.ndarray) -> np.ndarray:
    """True where a row repeats a value seen earlier in that row (the first occurrence stays)."""
    order = np.argsort(matrix, axis=1, kind="stable")
    ordered = np.take_along_axis(matrix, order, axis=1)
    repeat = np.zeros(matrix.shape, dtype=bool)
    repeat[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    out = np.zeros(matrix.shape, dtype=bool)
    np.put_along_axis(out, order, repeat, axis=1)
    return out


def for_you_order(videos: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Public videos in For-You order: a weighted shuffle where more played videos tend to come first."""
    public = np.flatnonzero(videos["visibility"].to_numpy() == "public")
    weight = (videos["plays"].to_numpy(dtype=float)[public] + 1.0) ** 0.25
    # Efraimidis–Spirakis: sorting log(u)/w descending is a weighted sample without replacement
    keys = np.log(rng.random(len(public))) / weight
    return public[np.argsort(-keys, kind="stable")]
