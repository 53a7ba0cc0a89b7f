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
    width = MAX_RELATED + 16  # spare draws make up for duplicates and self-links
    candidates = _draw_candidates(videos, rng, width)
    candidates[candidates == np.arange(n)[:, None]] = -1
    candidates[_later_repeats(candidates)] = -1
    valid = candidates >= 0
    keep = valid & (np.cumsum(valid, axis=1) <= lengths[:, None])
    counts = keep.sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return RelatedGraph(offsets, candidates[keep].astype(np.int64))


def _draw_candidates(videos: pd.DataFrame, rng: np.random.Generator, width: int) -> np.ndarray:
    n = len(videos)
    weight = np.sqrt(videos["plays"].to_numpy(dtype=float) + 1.0)
    source = rng.choice(len(SLOT_SOURCES), (n, width), p=SLOT_SOURCES)
    u = rng.random((n, width))
    category = pd.Categorical(videos["category"]).codes.astype(np.int64)
    top = np.argsort(-videos["plays"].to_numpy(), kind="stable")[: max(10, n // 20)]
    drawn = np.stack([
        _weighted_in_group(category, weight, u),
        _uniform_in_group(videos["author_row"].to_numpy(dtype=np.int64), u),
        top[np.minimum((u * len(top)).astype(np.int64), len(top) - 1)],
        np.minimum((u * n).astype(np.int64), n - 1),
    ])
    return np.take_along_axis(drawn, source[None], axis=0)[0]


def _weighted_in_group(group: np.ndarray, weight: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each row's uniforms, a member of the row's group drawn with probability ∝ weight."""
    order = np.argsort(group, kind="stable")
    cumulative = np.cumsum(weight[order])
    first = np.searchsorted(group[order], group, side="left")
    last = np.searchsorted(group[order], group, side="right") - 1
    low = np.where(first > 0, cumulative[np.maximum(first - 1, 0)], 0.0)
    target = low[:, None] + u * (cumulative[last] - low)[:, None]
    position = np.clip(np.searchsorted(cumulative, target, side="right"), first[:, None], last[:, None])
    return order[position]


def _uniform_in_group(group: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each row's uniforms, a member of the row's group drawn uniformly."""
    order = np.argsort(group, kind="stable")
    first = np.searchsorted(group[order], group, side="left")
    size = np.searchsorted(group[order], group, side="right") - first
    return order[first[:, None] + np.minimum((u * size[:, None]).astype(np.int64), size[:, None] - 1)]


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
