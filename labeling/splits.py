"""Train/val/test assignment: grouped (an author on one side only), balanced by rows, stable across versions.

New groups go, largest first (ties in the order of a hash of (seed, group key)),
to the side that still lacks the most rows, so each side gets its share of
*videos* even when a few authors posted many (a crawl gathers whole
neighbourhoods of an author); nothing depends on the rows' order, so equal inputs
give equal splits. Across versions nothing moves: a video that was in the parent version
keeps the split it had there, a new video of a group seen before joins that
group's side, and only new groups fill what the sides still lack.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.errors import CurateError

SPLITS = ("train", "val", "test")
GROUP_KEYS = ("author", "video")
#: pandas' SipHash key for group keys (exactly 16 characters)
_GROUP_HASH_KEY = "viralcurate-grp1"


class SplitError(CurateError):
    """A split specification is invalid (ratios, group key)."""


@dataclass(frozen=True)
class SplitSpec:
    """Ratios of train/val/test, the hashing seed, the group key, and whether simulated rows may be evaluated on."""

    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    group_by: str = "author"
    include_simulated_in_eval: bool = False

    def __post_init__(self) -> None:
        if len(self.ratios) != 3 or any(r < 0 for r in self.ratios) or not np.isclose(sum(self.ratios), 1.0, atol=1e-6):
            raise SplitError(f"split ratios must be three non-negative numbers summing to 1, not {self.ratios}")
        if self.group_by not in GROUP_KEYS:
            raise SplitError(f"--group-by must be one of {', '.join(GROUP_KEYS)}, not {self.group_by!r}")

    @staticmethod
    def parse_ratios(text: str) -> tuple[float, float, float]:
        """``"0.8,0.1,0.1"`` → (0.8, 0.1, 0.1)."""
        try:
            values = tuple(float(p) for p in text.split(","))
        except ValueError:
            raise SplitError(f"--split must look like 0.8,0.1,0.1, not {text!r}") from None
        if len(values) != 3:
            raise SplitError(f"--split needs three ratios (train,val,test), not {text!r}")
        return values  # type: ignore[return-value]

    def to_dict(self) -> dict:
        """JSON-able form for the manifest."""
        return {**asdict(self), "ratios": dict(zip(SPLITS, self.ratios, strict=True))}


@dataclass
class SplitAssignment:
    """Each row's split, which rows are left out (simulated rows on an evaluation side), and tallies."""

    split: pd.Series
    excluded: pd.Series
    inherited: int
    groups: int
    #: rows whose group key was missing (no author): each such video is its own group
    ungrouped: int = 0


def group_uniforms(keys: pd.Series, seed: int) -> np.ndarray:
    """A uniform in [0, 1) per key, depending only on (seed, key)."""
    salted = (keys.astype(str) + f"\x1f{int(seed)}").to_numpy(dtype=object)
    bits = pd.util.hash_array(salted, hash_key=_GROUP_HASH_KEY, categorize=True)
    return (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53


def assign_splits(
    video_ids: pd.Series, group_keys: pd.Series, simulated: pd.Series, spec: SplitSpec, parent: pd.Series | None = None
) -> SplitAssignment:
    """Splits for rows given their ids, group keys (None: the video is its own group) and provenance.

    ``parent`` maps video id → split in the parent version. Order of work: a
    parent's split wins for its videos; a group seen in the parent keeps that
    side for its new videos; a new group of simulated rows only goes to train
    (unless simulated rows may be evaluated on); every other group is hashed.
    Simulated rows that land on val/test (those of mixed groups) are excluded.
    """
    ids = video_ids.astype(str).reset_index(drop=True)
    keys = group_keys.reset_index(drop=True)
    ungrouped = 0 if spec.group_by == "video" else int(keys.isna().sum())
    if spec.group_by == "video":
        groups = ids
    else:
        groups = keys.astype(object).where(keys.notna(), "video:" + ids)
    sim = simulated.reset_index(drop=True).astype(bool)
    old = ids.map(parent) if parent is not None and len(parent) else pd.Series([None] * len(ids), dtype=object)
    split = old.fillna(groups.map(_inherited_group_sides(groups, old))).astype(object)
    if not spec.include_simulated_in_eval:
        # a group of simulated rows only would be excluded whole from val/test: it serves better in train
        only_sim = sim.groupby(groups).transform("all")
        split = split.where(split.notna() | ~only_sim, "train")
    free = split.isna()
    split[free] = _balanced_sides(groups[free], _still_wanted(split, spec.ratios, int(free.sum())), spec.seed)
    split = split.astype(str)
    excluded = sim & (split != "train") & (not spec.include_simulated_in_eval)
    return SplitAssignment(split=split, excluded=excluded, inherited=int(old.notna().sum()), groups=int(groups.nunique()),
                           ungrouped=ungrouped)


def _still_wanted(split: pd.Series, ratios: tuple[float, float, float], free_rows: int) -> np.ndarray:
    """Rows each side should still receive: its share of all rows minus what it holds, scaled to the free rows."""
    held = split.value_counts().reindex(SPLITS, fill_value=0).to_numpy(dtype=np.float64)
    short = np.clip(np.asarray(ratios) * len(split) - held, 0.0, None)
    weights = short if short.sum() > 0 else np.asarray(ratios, dtype=np.float64)
    return weights / weights.sum() * free_rows


def _balanced_sides(groups: pd.Series, wanted: np.ndarray, seed: int) -> np.ndarray:
    """Each row's side: groups largest first (ties by hash), each to the side lacking the most rows."""
    if groups.empty:
        return np.empty(0, dtype=object)
    sizes = groups.value_counts(sort=False)
    order = np.lexsort((group_uniforms(pd.Series(sizes.index), seed), -sizes.to_numpy()))
    lacking = wanted.tolist()
    sides = []
    for size in sizes.to_numpy()[order].tolist():  # one step per group, not per row; greedy needs the running state
        side = max(range(len(SPLITS)), key=lacking.__getitem__)
        lacking[side] -= size
        sides.append(SPLITS[side])
    return groups.map(pd.Series(sides, index=sizes.index[order], dtype=object)).to_numpy(dtype=object)


def _inherited_group_sides(groups: pd.Series, old: pd.Series) -> pd.Series:
    """Group → the split most of its parent-version videos had (ties: the first split name)."""
    known = pd.DataFrame({"group": groups[old.notna()], "split": old[old.notna()].astype(str)})
    if known.empty:
        return pd.Series(dtype=object)
    tally = known.value_counts().reset_index().sort_values(["count", "split"], ascending=[False, True])
    return tally.drop_duplicates("group").set_index("group")["split"]
